#!/usr/bin/env bash
# Loom models of the host store's two concurrency protocols, built with
# `--cfg loom` so store/sync.rs hands the real code loom's primitives:
# group commit (store/group/loom_model.rs: 3 committers sharing syncs, a
# failed first or second sync, a rotation's sync beside 2 committers,
# succeeding or failing) and the view swap (store/view/loom_model.rs: a
# writer publishing, a checkpoint freezing, 2 readers holding views; a
# committer catching spares up beside the writer).
# Loom explores every interleaving with up to 4 forced preemptions
# (LOOM_MAX_PREEMPTIONS overrides it). The loom build has its own target
# directory, so it never invalidates the normal one. Also lints the
# models, which the lint step never compiles.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"

loom_target="$BINDSPACE_ROOT/target/loom"

section "loom models: group commit and the view swap"
RUSTFLAGS="--cfg loom" run cargo test -p bindspace-host --release --lib \
    --target-dir "$loom_target" -- loom_model --test-threads 1 --nocapture
exercised "host store loom models (group commit, view swap; preemption bound ${LOOM_MAX_PREEMPTIONS:-4})"

section "clippy on the loom build (the models compile only there)"
RUSTFLAGS="--cfg loom" run cargo clippy -p bindspace-host --lib --tests \
    --target-dir "$loom_target" -- -D warnings
exercised "clippy, cfg(loom)"
drop_build_dir "$loom_target"
