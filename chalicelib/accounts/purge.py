"""What a deleted account owned, removed after the account itself is gone.

Deleting an account is one transaction (the account, its sessions, a purge job); its chats,
ratings, bookmarks, share links and proposals can be any number of items, so a scheduled
sweep removes them (`sweep`: the schedule in accounts/views.py, and the local server's thread).
Every step is idempotent: a sweep cut short is finished by the next one.
"""
import time

from chalicelib import storage
from chalicelib.board import proposals
from chalicelib.core import deadline, observe

# The by_owner index lags its table a little: a proposal written just before the deletion
# must be visible to the purge, so jobs wait this long.
SETTLE_SECONDS = 5


def purge_account(user_id: str) -> None:
    st = storage.store()
    proposals.forget_author(user_id)
    st.chats.delete_all(user_id, account=False)  # with their share links and ratings
    st.shares.delete_all(user_id)  # any link left (its chat took the rest)
    st.bookmarks.delete_all(user_id)
    st.sessions.delete_left(user_id)  # any a crash left between the deletion and its batch
    st.purges.finish(user_id)


def sweep(settle: float = SETTLE_SECONDS) -> int:
    """Purge every deleted account older than `settle` seconds; how many were purged. One
    that fails does not hold up the others; the sweep raises at the end (so its Lambda counts
    an error and the alarm fires) and the next sweep tries it again."""
    jobs = storage.store().purges.jobs(older_than=time.time() - settle)
    failed: list[str] = []
    for user_id in jobs:
        try:
            purge_account(user_id)
        except deadline.DeadlineExceeded:
            raise  # out of time: the next sweep goes on
        except Exception as exc:
            observe.unexpected(exc)
            failed.append(user_id)
    if failed:
        raise RuntimeError(f'purge failed for {len(failed)} of {len(jobs)} deleted accounts (see the log above)')
    return len(jobs)
