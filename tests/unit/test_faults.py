"""The request budget without a server: where it starts counting (the faults themselves:
tests/test_faults.py)."""
import time


class Arrived:
    def __init__(self, context):
        self.context = context


def test_the_budget_counts_from_arrival_at_the_gateway():
    """API Gateway's requestTimeEpoch (so the authorizer's time counts), unless it is nonsense."""
    from chalicelib.core import web
    now = time.time()
    assert abs(web.arrival(Arrived({'requestTimeEpoch': int((now - 5) * 1000)})) - (now - 5)) < 0.01
    for nonsense in (0, int((now + 60) * 1000), 'soon', None):
        assert web.arrival(Arrived({'requestTimeEpoch': nonsense})) >= now
    assert web.arrival(Arrived(None)) >= now
