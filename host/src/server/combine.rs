//! Write combining: single writes from many connections committed as one
//! batch. Each write of a store costs a lock hand-off, a log append and a
//! copy of the shard it touches; when many clients write at once, the
//! first to arrive (the leader) takes every write waiting behind it and
//! commits them together, as one transaction of the command language
//! (MULTI, each command, EXEC): each command sees the ones before it, the
//! batch is one all-or-nothing log entry, and each client gets its own
//! element of EXEC's reply. If the combined transaction is refused (one
//! command fails), every command runs again on its own, so one client's
//! error never becomes another's.

use super::engine::{ClientScratch, ClientSession, Engine, Failure};
use bindspace_core::command::{self, Context, Input, Reply};
use std::sync::{Arc, Condvar, Mutex};

/// The most writes combined into one batch (a transaction holds at most
/// `BATCH_MAX` = 64 mutations; a plain write makes one or two).
const COMBINE_MAX: usize = 16;

/// A reply that owns its bytes (it crosses threads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owned {
    /// `+OK`
    Status(String),
    /// `:n`
    Integer(i64),
    /// `$n bytes`
    Bulk(Vec<u8>),
    /// nil
    Nil,
    /// an array
    Array(Vec<Owned>),
}

impl Owned {
    /// A copy of `reply`.
    pub(crate) fn of(reply: &Reply<'_>) -> Owned {
        match reply {
            Reply::Status(s) => Owned::Status((*s).to_string()),
            Reply::Integer(n) => Owned::Integer(*n),
            Reply::Bulk(b) => Owned::Bulk(b.to_vec()),
            Reply::Nil => Owned::Nil,
            Reply::Array(items) => Owned::Array(items.iter().map(|r| Owned::of(&r)).collect()),
        }
    }
}

/// What a combined write ended with: the reply, or the error code and
/// message.
pub(crate) type Outcome = Result<Owned, (&'static str, String)>;

#[derive(Debug)]
struct Job {
    args: Vec<Vec<u8>>,
    done: Mutex<Option<Outcome>>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<Arc<Job>>,
    leading: bool,
}

/// The queue of writes waiting for a leader, and the leader's buffers.
#[derive(Debug)]
pub(crate) struct Combiner {
    state: Mutex<State>,
    buffers: Mutex<(ClientSession, ClientScratch)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Combiner {
    /// A combiner with buffers sized for `engine`.
    pub(crate) fn new(engine: &Engine) -> Combiner {
        Combiner {
            state: Mutex::new(State::default()),
            buffers: Mutex::new(engine.client_buffers()),
        }
    }

    /// Runs one write (not inside MULTI, not EXEC), possibly combined with
    /// others; returns when it is durable and applied.
    pub(crate) fn write(&self, engine: &Engine, args: &[&[u8]]) -> Outcome {
        let job = Arc::new(Job {
            args: args.iter().map(|a| a.to_vec()).collect(),
            done: Mutex::new(None),
            wake: Condvar::new(),
        });
        let lead = {
            let mut st = lock(&self.state);
            st.waiting.push(Arc::clone(&job));
            !core::mem::replace(&mut st.leading, true)
        };
        if lead {
            loop {
                let batch: Vec<Arc<Job>> = {
                    let mut st = lock(&self.state);
                    if st.waiting.is_empty() {
                        st.leading = false;
                        break;
                    }
                    let n = st.waiting.len().min(COMBINE_MAX);
                    st.waiting.drain(..n).collect()
                };
                self.commit(engine, &batch);
            }
        }
        let mut done = lock(&job.done);
        loop {
            if let Some(outcome) = done.take() {
                return outcome;
            }
            done = job.wake.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn commit(&self, engine: &Engine, jobs: &[Arc<Job>]) {
        let mut buffers = lock(&self.buffers);
        let (session, scratch) = &mut *buffers;
        let outcomes = match combined(engine, jobs, session, scratch) {
            Some(outcomes) => outcomes,
            None => jobs
                .iter()
                .map(|j| alone(engine, j, session, scratch))
                .collect(),
        };
        for (job, outcome) in jobs.iter().zip(outcomes) {
            *lock(&job.done) = Some(outcome);
            job.wake.notify_one();
        }
    }
}

fn argv(job: &Job) -> Vec<&[u8]> {
    job.args.iter().map(Vec::as_slice).collect()
}

fn failed(e: &Failure) -> (&'static str, String) {
    (e.code(), e.to_string())
}

/// One write on its own.
fn alone(
    engine: &Engine,
    job: &Job,
    session: &mut ClientSession,
    scratch: &mut ClientScratch,
) -> Outcome {
    session.reset();
    engine
        .run(&argv(job), session, scratch)
        .map(|r| Owned::of(&r))
        .map_err(|e| failed(&e))
}

/// All the writes as one transaction; `None` if any was refused (then
/// nothing was applied).
fn combined(
    engine: &Engine,
    jobs: &[Arc<Job>],
    session: &mut ClientSession,
    scratch: &mut ClientScratch,
) -> Option<Vec<Outcome>> {
    if jobs.len() == 1 {
        return None;
    }
    session.reset();
    let ctx = Context::new(crate::server::engine::now_ms()).kernel(crate::kernels::detected());
    let view = engine.store().view();
    command::execute(&*view, &ctx, Input::Argv(&[b"MULTI"]), session, scratch).ok()?;
    for job in jobs {
        let queued = command::execute(&*view, &ctx, Input::Argv(&argv(job)), session, scratch);
        if !matches!(queued.map(|o| o.reply()), Ok(Reply::Status("QUEUED"))) {
            session.reset();
            return None;
        }
    }
    drop(view);
    let reply = engine.run(&[b"EXEC"], session, scratch);
    session.reset();
    match reply {
        Ok(Reply::Array(items)) if items.len() == jobs.len() => {
            Some(items.iter().map(|r| Ok(Owned::of(&r))).collect())
        }
        Err(e @ Failure::Store(_)) => Some(jobs.iter().map(|_| Err(failed(&e))).collect()),
        _ => None,
    }
}
