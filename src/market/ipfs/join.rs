//! Several requests at once on the JS event loop: all of them (`all`: pins at every service,
//! health probes), or the first that succeeds (`first_ok`: raced gateways). Written here: each is
//! a few lines, and the SDK depends on no async utility crate.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub type Task<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
/// A racer: a value to win with, nothing (it steps aside), or an error.
pub type Racer<'a, T, E> = Task<'a, Result<Option<T>, E>>;
/// The winner (its index and value), and the errors of those that failed before it.
pub type Raced<T, E> = (Option<(usize, T)>, Vec<(usize, E)>);

/// Every task's output, in order, once all have ended.
pub fn all<'a, T>(tasks: Vec<Task<'a, T>>) -> impl Future<Output = Vec<T>> + 'a
where
    T: 'a,
{
    All {
        outputs: tasks.iter().map(|_| None).collect(),
        tasks: tasks.into_iter().map(Some).collect(),
    }
}

struct All<'a, T> {
    tasks: Vec<Option<Task<'a, T>>>,
    outputs: Vec<Option<T>>,
}

impl<T> Unpin for All<'_, T> {}

impl<T> Future for All<'_, T> {
    type Output = Vec<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let this = &mut *self;
        for (task, out) in this.tasks.iter_mut().zip(this.outputs.iter_mut()) {
            if let Some(t) = task {
                if let Poll::Ready(v) = t.as_mut().poll(cx) {
                    *out = Some(v);
                    *task = None;
                }
            }
        }
        if this.tasks.iter().any(Option::is_some) {
            return Poll::Pending;
        }
        Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect())
    }
}

/// The first task to give `Ok(Some(_))`, with its index, and the errors of the tasks that failed
/// before it (by index). A task that gives `Ok(None)` neither wins nor fails. The tasks still
/// running when one wins are dropped.
pub fn first_ok<'a, T: 'a, E: 'a>(
    tasks: Vec<Racer<'a, T, E>>,
) -> impl Future<Output = Raced<T, E>> + 'a {
    FirstOk {
        tasks: tasks.into_iter().map(Some).collect(),
        failed: Vec::new(),
    }
}

struct FirstOk<'a, T, E> {
    tasks: Vec<Option<Racer<'a, T, E>>>,
    failed: Vec<(usize, E)>,
}

impl<T, E> Unpin for FirstOk<'_, T, E> {}

impl<T, E> Future for FirstOk<'_, T, E> {
    type Output = Raced<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        for i in 0..this.tasks.len() {
            let Some(task) = this.tasks[i].as_mut() else {
                continue;
            };
            match task.as_mut().poll(cx) {
                Poll::Pending => {}
                Poll::Ready(Ok(Some(v))) => {
                    this.tasks.clear();
                    return Poll::Ready((Some((i, v)), std::mem::take(&mut this.failed)));
                }
                Poll::Ready(Ok(None)) => this.tasks[i] = None,
                Poll::Ready(Err(e)) => {
                    this.tasks[i] = None;
                    this.failed.push((i, e));
                }
            }
        }
        if this.tasks.iter().all(Option::is_none) {
            return Poll::Ready((None, std::mem::take(&mut this.failed)));
        }
        Poll::Pending
    }
}
