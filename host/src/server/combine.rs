//! Write combining: single writes from many connections committed as one
//! batch. Each write of a store costs a lock hand-off, a log append and a
//! copy of the shard it touches; when many clients write at once, the
//! first to arrive (the leader) takes every write waiting behind it and
//! commits them together, as one all-or-nothing log entry, and each
//! client gets its own reply.
//!
//! A plain `SET addr hex` arrives decoded ([`PlainSet`]): a run of them
//! becomes one commit of their mutations directly. Any other write runs
//! as one transaction of the command language (MULTI, each command,
//! EXEC): each command sees the ones before it. If a combined commit is
//! refused (one write fails), every write runs again on its own, so one
//! client's error never becomes another's.
//!
//! A client either waits for its outcome (its thread parks and the
//! leader unparks it) or, when the write is the last thing it sent,
//! leaves the reply to the leader ([`Combiner::detach`]): the leader
//! sends it the moment the write is done, and the client's thread goes
//! straight back to reading instead of sleeping twice per request.

use super::engine::{ClientScratch, ClientSession, Engine, Failure};
use super::plain_set::PlainSet;
use super::reply_to::ReplyTo;
use crate::store::StoreError;
use bindspace_core::command::{self, Input, Reply};
use bindspace_core::fingerprint;
use core::sync::atomic::{AtomicBool, Ordering};
use std::borrow::Cow;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, Thread};

/// The most writes combined into one transaction of the command language
/// (a transaction holds at most `BATCH_MAX` = 64 mutations; a plain write
/// makes one or two).
const COMBINE_MAX: usize = 16;

/// The most plain SETs combined into one commit (at most two mutations
/// each; the store takes far bigger batches).
const SETS_MAX: usize = 64;

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
    /// `+OK`
    pub(crate) fn ok() -> Owned {
        Owned::Status("OK".into())
    }

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

/// What a client asked for.
#[derive(Debug)]
enum Work {
    /// A plain SET, decoded.
    Set(PlainSet),
    /// Any other write: its arguments, name first.
    Command(Vec<Vec<u8>>),
}

#[derive(Debug)]
struct Job {
    work: Work,
    /// Where the leader sends the reply itself, if the client asked it to.
    reply_to: Option<ReplyTo>,
    finished: Mutex<Option<Finished>>,
    done: AtomicBool,
    /// The client's thread, unparked when `done` is set.
    waiter: Thread,
}

/// How a write ended, as its client collects it.
#[derive(Debug)]
pub(crate) struct Finished {
    /// The reply or the error.
    pub(crate) outcome: Outcome,
    /// Reply bytes the leader could not send without waiting (the client
    /// was not reading); the client's thread sends them before anything
    /// else. Empty when the reply was sent or there was nowhere to send it.
    pub(crate) unsent: Vec<u8>,
}

impl Job {
    fn plain_set(&self) -> Option<&PlainSet> {
        match &self.work {
            Work::Set(set) => Some(set),
            Work::Command(_) => None,
        }
    }

    /// Sends the reply if asked to, hands the outcome over and wakes the
    /// client (unless it is the leader itself, which is awake).
    fn finish(&self, outcome: Outcome) {
        let unsent = match &self.reply_to {
            Some(to) => to.send(&outcome),
            None => Vec::new(),
        };
        *lock(&self.finished) = Some(Finished { outcome, unsent });
        self.done.store(true, Ordering::Release);
        if self.waiter.id() != thread::current().id() {
            self.waiter.unpark();
        }
    }

    /// Waits until the leader has finished the job.
    fn wait(&self) -> Finished {
        // Parking may wake early (or on a stale unpark): `done` decides.
        while !self.done.load(Ordering::Acquire) {
            thread::park();
        }
        let finished = lock(&self.finished).take();
        finished.unwrap_or_else(|| Finished {
            outcome: Err(("ERR", "the write's outcome was lost".into())),
            unsent: Vec::new(),
        })
    }
}

/// A write handed to the combiner whose reply the leader sends.
#[derive(Debug)]
pub(crate) struct Pending(Arc<Job>);

impl Pending {
    /// Whether the write is finished (collecting it will not wait).
    pub(crate) fn is_done(&self) -> bool {
        self.0.done.load(Ordering::Acquire)
    }

    /// Waits for the write to finish and collects how it ended.
    pub(crate) fn settle(self) -> Finished {
        self.0.wait()
    }
}

/// How many batches a leader commits before the next client to write
/// takes over: a leader's own connection reads nothing more while it
/// leads, so under a steady stream of writes from others it would
/// otherwise never get back to its client.
const LEAD_ROUNDS: usize = 4;

#[derive(Debug, Default)]
struct State {
    waiting: Vec<Arc<Job>>,
    leading: bool,
    /// Batches the current leader has committed.
    rounds: usize,
    /// A client is waiting to take the lead over.
    successor: bool,
    /// The leader has handed over to the waiting successor.
    handed_over: bool,
}

/// The queue of writes waiting for a leader, and the leader's buffers.
#[derive(Debug)]
pub(crate) struct Combiner {
    state: Mutex<State>,
    /// Where a successor waits for the leader to hand over.
    handover: Condvar,
    buffers: Mutex<(ClientSession, ClientScratch)>,
}

/// What a client that queued a write does next.
enum Role {
    /// Nobody leads: commit the queue now.
    Lead,
    /// The leader has led long enough: take over once it hands over.
    Succeed,
    /// The leader will commit it.
    Follow,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Combiner {
    /// A combiner with buffers sized for `engine`.
    pub(crate) fn new(engine: &Engine) -> Combiner {
        Combiner {
            state: Mutex::new(State::default()),
            handover: Condvar::new(),
            buffers: Mutex::new(engine.client_buffers()),
        }
    }

    /// Runs one write (not inside MULTI, not EXEC), possibly combined with
    /// others; returns when it is durable and applied.
    pub(crate) fn write(&self, engine: &Engine, args: &[&[u8]]) -> Outcome {
        self.submit(engine, args, None).wait().outcome
    }

    /// Like [`Combiner::write`], but the reply is sent to `reply_to` by
    /// whoever commits the write, and this returns at once unless the
    /// caller leads. The caller must send nothing on that connection
    /// until it has settled the [`Pending`] write (and sent its `unsent`
    /// bytes), so replies stay in order.
    pub(crate) fn detach(&self, engine: &Engine, args: &[&[u8]], reply_to: ReplyTo) -> Pending {
        Pending(self.submit(engine, args, Some(reply_to)))
    }

    /// Queues a write; if no one is leading, leads (see [`Combiner::lead`]).
    fn submit(&self, engine: &Engine, args: &[&[u8]], reply_to: Option<ReplyTo>) -> Arc<Job> {
        let work = match PlainSet::parse(args, engine.store().width()) {
            Some(set) => Work::Set(set),
            None => Work::Command(args.iter().map(|a| a.to_vec()).collect()),
        };
        let job = Arc::new(Job {
            work,
            reply_to,
            finished: Mutex::new(None),
            done: AtomicBool::new(false),
            waiter: thread::current(),
        });
        self.enqueue(Arc::clone(&job), &mut |batch| self.commit(engine, batch));
        job
    }

    /// Queues `job`, and leads if nobody does, or takes over from a
    /// leader that has committed [`LEAD_ROUNDS`] batches.
    fn enqueue(&self, job: Arc<Job>, run: &mut dyn FnMut(&[Arc<Job>])) {
        let role = {
            let mut st = lock(&self.state);
            st.waiting.push(job);
            if !st.leading {
                st.leading = true;
                st.rounds = 0;
                Role::Lead
            } else if st.rounds >= LEAD_ROUNDS && !st.successor {
                st.successor = true;
                Role::Succeed
            } else {
                Role::Follow
            }
        };
        match role {
            Role::Lead => self.lead(run),
            Role::Succeed => {
                let mut st = lock(&self.state);
                while !st.handed_over {
                    st = self.handover.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                st.handed_over = false;
                drop(st);
                self.lead(run);
            }
            Role::Follow => {}
        }
    }

    /// Commits the queue a batch at a time with `run`, until it is empty
    /// or a successor is waiting (then hands over to it). If `run`
    /// panics, which is a bug, every write it took and every write still
    /// queued is failed with an error, so no client waits forever, and
    /// leading passes on ([`LeadGuard`]).
    fn lead(&self, run: &mut dyn FnMut(&[Arc<Job>])) {
        let mut guard = LeadGuard {
            combiner: self,
            batch: Vec::new(),
        };
        loop {
            {
                let mut st = lock(&self.state);
                if st.successor {
                    self.hand_over(&mut st);
                    return;
                }
                if st.waiting.is_empty() {
                    st.leading = false;
                    return;
                }
                let n = st.waiting.len().min(SETS_MAX);
                guard.batch = st.waiting.drain(..n).collect();
                st.rounds += 1;
            }
            run(&guard.batch);
            guard.batch.clear();
        }
    }

    /// Passes the lead to the waiting successor (`leading` stays set).
    fn hand_over(&self, st: &mut State) {
        st.successor = false;
        st.handed_over = true;
        // Counted from here, so a client arriving before the successor
        // wakes follows instead of queuing as a second successor.
        st.rounds = 0;
        self.handover.notify_one();
    }

    /// Commits `jobs` in order: each run of plain SETs as one commit,
    /// other writes in transactions of up to [`COMBINE_MAX`].
    fn commit(&self, engine: &Engine, jobs: &[Arc<Job>]) {
        let mut rest = jobs;
        while let Some(first) = rest.first() {
            let plain = first.plain_set().is_some();
            let max = if plain { SETS_MAX } else { COMBINE_MAX };
            let n = rest
                .iter()
                .take(max)
                .take_while(|j| j.plain_set().is_some() == plain)
                .count();
            let (run, tail) = rest.split_at(n);
            let outcomes = if plain {
                self.commit_sets(engine, run)
            } else {
                self.commit_commands(engine, run)
            };
            for (job, outcome) in run.iter().zip(outcomes) {
                job.finish(outcome);
            }
            rest = tail;
        }
    }

    fn commit_commands(&self, engine: &Engine, jobs: &[Arc<Job>]) -> Vec<Outcome> {
        let mut buffers = lock(&self.buffers);
        let (session, scratch) = &mut *buffers;
        match combined(engine, jobs, session, scratch) {
            Some(outcomes) => outcomes,
            None => jobs
                .iter()
                .map(|j| alone(engine, j, session, scratch))
                .collect(),
        }
    }

    /// Plain SETs as one commit. If the store refuses the batch, each
    /// runs on its own through the command language (which then says why,
    /// exactly as for a SET that came alone).
    fn commit_sets(&self, engine: &Engine, jobs: &[Arc<Job>]) -> Vec<Outcome> {
        let sets: Vec<&PlainSet> = jobs.iter().filter_map(|j| j.plain_set()).collect();
        let tick = || engine.tick().map_err(Failure::Clock);
        match PlainSet::commit_all(engine.store(), &sets, tick) {
            Ok(_) => jobs.iter().map(|_| Ok(Owned::ok())).collect(),
            Err(Failure::Store(StoreError::Rejected(_))) => {
                let mut buffers = lock(&self.buffers);
                let (session, scratch) = &mut *buffers;
                jobs.iter()
                    .map(|j| alone(engine, j, session, scratch))
                    .collect()
            }
            Err(e) => {
                let failure = failed(&e);
                jobs.iter().map(|_| Err(failure.clone())).collect()
            }
        }
    }
}

/// Fails the writes of a leader whose commit panicked (see
/// [`Combiner::lead`]); does nothing when the leader returns normally.
struct LeadGuard<'a> {
    combiner: &'a Combiner,
    /// The batch being committed.
    batch: Vec<Arc<Job>>,
}

impl Drop for LeadGuard<'_> {
    fn drop(&mut self) {
        if !thread::panicking() {
            return;
        }
        let lost = || Err(("ERR", "internal error: the write was not committed".into()));
        for job in &self.batch {
            if !job.done.load(Ordering::Acquire) {
                job.finish(lost());
            }
        }
        let mut st = lock(&self.combiner.state);
        if st.successor {
            // It commits what is queued.
            self.combiner.hand_over(&mut st);
        } else {
            // Their clients may be asleep waiting for a leader that is
            // gone: they get an error instead, and the next write leads.
            for job in core::mem::take(&mut st.waiting) {
                job.finish(lost());
            }
            st.leading = false;
        }
    }
}

/// The job's arguments, name first. A plain SET is written back out in
/// the language's own form (same address, same fingerprint), for the
/// rare case where it must run through the language after all.
fn args_of(job: &Job) -> Cow<'_, [Vec<u8>]> {
    match &job.work {
        Work::Command(args) => Cow::Borrowed(args),
        Work::Set(set) => {
            let mut hex = vec![0u8; set.fp.len() * 16];
            // `hex` has exactly the length `to_hex` needs.
            let _ = fingerprint::to_hex(&set.fp, &mut hex);
            Cow::Owned(vec![
                b"SET".to_vec(),
                set.addr.to_string().into_bytes(),
                hex,
            ])
        }
    }
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
    let args = args_of(job);
    let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    engine
        .run(&argv, session, scratch)
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
    // A clock that fails here fails each write on its own, saying why.
    let ctx = engine.context().ok()?;
    let view = engine.store().view();
    command::execute(&*view, &ctx, Input::Argv(&[b"MULTI"]), session, scratch).ok()?;
    for job in jobs {
        let args = args_of(job);
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let queued = command::execute(&*view, &ctx, Input::Argv(&argv), session, scratch);
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

#[cfg(test)]
mod tests {
    use super::*;
    use bindspace_core::command::{Scratch, Session};
    use bindspace_core::{Addr, Width};
    use core::sync::atomic::AtomicUsize;
    use core::time::Duration;

    /// A combiner with no engine behind it: the tests commit with
    /// closures of their own.
    fn bare_combiner() -> Combiner {
        Combiner {
            state: Mutex::new(State::default()),
            handover: Condvar::new(),
            buffers: Mutex::new((
                Session::new(Vec::new()),
                Scratch::new(Vec::new(), Vec::new()),
            )),
        }
    }

    /// A write from the calling thread.
    fn job() -> Arc<Job> {
        Arc::new(Job {
            work: Work::Command(Vec::new()),
            reply_to: None,
            finished: Mutex::new(None),
            done: AtomicBool::new(false),
            waiter: thread::current(),
        })
    }

    /// Commits a batch as a sync would: slowly, every write succeeding.
    fn slow_commit(batch: &[Arc<Job>]) {
        thread::sleep(Duration::from_millis(1));
        for job in batch {
            job.finish(Ok(Owned::ok()));
        }
    }

    #[test]
    fn a_leader_gets_back_to_its_client_while_others_keep_writing() {
        let combiner = bare_combiner();
        let (leading, wait_leading) = std::sync::mpsc::channel();
        let stop = AtomicBool::new(false);
        let fed = AtomicUsize::new(0);
        thread::scope(|s| {
            let (combiner, stop, fed) = (&combiner, &stop, &fed);
            // Other clients writing steadily once this one leads, for at
            // most 5 s: a few writes are always queued, never many.
            s.spawn(move || {
                wait_leading.recv().unwrap();
                let start = std::time::Instant::now();
                while !stop.load(Ordering::Acquire) && start.elapsed() < Duration::from_secs(5) {
                    if lock(&combiner.state).waiting.len() >= 4 {
                        thread::yield_now();
                        continue;
                    }
                    combiner.enqueue(job(), &mut slow_commit);
                    fed.fetch_add(1, Ordering::AcqRel);
                }
            });
            let mine = job();
            let mut rounds = 0;
            let start = std::time::Instant::now();
            combiner.enqueue(Arc::clone(&mine), &mut |batch| {
                if rounds == 0 {
                    leading.send(()).unwrap();
                    // The other client's first write is queued before this
                    // batch ends, however slowly its thread is scheduled
                    // (under an emulator it may take milliseconds).
                    let waiting = std::time::Instant::now();
                    while lock(&combiner.state).waiting.is_empty()
                        && waiting.elapsed() < Duration::from_secs(10)
                    {
                        thread::yield_now();
                    }
                }
                rounds += 1;
                slow_commit(batch);
            });
            let took = start.elapsed();
            stop.store(true, Ordering::Release);
            assert!(
                mine.done.load(Ordering::Acquire),
                "my write was not committed"
            );
            assert!(
                fed.load(Ordering::Acquire) > 0,
                "the other client wrote nothing"
            );
            // It hands over after LEAD_ROUNDS (one more if the other
            // client was slow to be scheduled); it used to lead until the
            // others stopped, 5 s later, and their queue was empty.
            assert!(
                rounds <= LEAD_ROUNDS + 1 && took < Duration::from_secs(4),
                "led {rounds} batches for {took:?} while the other client kept writing"
            );
        });
    }

    #[test]
    fn a_leader_that_panics_fails_every_write_it_held_and_lets_the_next_lead() {
        let combiner = bare_combiner();
        let (follower_queued, wait_follower) = std::sync::mpsc::channel();
        thread::scope(|s| {
            let combiner = &combiner;
            let leader = s.spawn(move || {
                combiner.enqueue(job(), &mut |_| {
                    wait_follower.recv().unwrap();
                    panic!("a bug in a commit");
                });
            });
            // Queued behind the leader (wait until it leads).
            while !lock(&combiner.state).leading {
                thread::yield_now();
            }
            let follower = job();
            combiner.enqueue(Arc::clone(&follower), &mut |_| unreachable!());
            follower_queued.send(()).unwrap();
            assert!(leader.join().is_err(), "the leader's panic goes on");
            let outcome = follower.wait().outcome.unwrap_err();
            assert!(outcome.1.contains("not committed"), "{outcome:?}");
        });
        let next = job();
        let mut ran = false;
        combiner.enqueue(Arc::clone(&next), &mut |batch| {
            ran = true;
            slow_commit(batch);
        });
        assert!(ran, "nobody led after the panic");
        assert_eq!(next.wait().outcome, Ok(Owned::ok()));
    }

    #[test]
    fn a_plain_set_written_back_out_parses_to_itself() {
        let width = Width::from_bits(128).unwrap();
        for (addr, fp) in [
            (Addr::new(0x10, 0x01), [0x0123_4567_89ab_cdef, u64::MAX]),
            (Addr::new(0xFF, 0xFF), [0, 1 << 63]),
        ] {
            let set = PlainSet {
                addr,
                fp: fp.to_vec(),
            };
            let job = Job {
                work: Work::Set(set.clone()),
                reply_to: None,
                finished: Mutex::new(None),
                done: AtomicBool::new(false),
                waiter: thread::current(),
            };
            let args = args_of(&job);
            let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            assert_eq!(PlainSet::parse(&argv, width), Some(set));
        }
    }
}
