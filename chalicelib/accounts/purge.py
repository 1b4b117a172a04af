"""What a deleted account owned, removed after the account itself is gone.

Deleting an account is one transaction (the account, its sessions, a purge job); its chats,
ratings, bookmarks, share links and proposals can be any number of items, so a scheduled
sweep removes them (`sweep`, app.py's schedule; `make run` runs it in the local server).
Every step is idempotent: a sweep cut short is finished by the next one.
"""
import time

from chalicelib import storage
from chalicelib.board import proposals

# The by_owner index lags its table a little: a proposal written just before the deletion
# must be visible to the purge, so jobs wait this long.
SETTLE_SECONDS = 5


def purge_account(user_id: str) -> None:
    st = storage.store()
    proposals.forget_author(user_id)
    st.delete_chats(user_id, account=False)  # with their share links and ratings
    st.delete_kept(user_id)
    st.finish_purge(user_id)


def sweep(settle: float = SETTLE_SECONDS) -> int:
    """Purge every deleted account older than `settle` seconds; how many were purged."""
    jobs = storage.store().purge_jobs(older_than=time.time() - settle)
    for user_id in jobs:
        purge_account(user_id)
    return len(jobs)
