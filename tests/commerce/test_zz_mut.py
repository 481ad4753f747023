from tests.commerce.test_cart import machine_db  # noqa
import pytest
import tests.commerce.test_cart as tc
from assistant.commerce import _cart

def test_mutant(machine_db, monkeypatch):
    orig = _cart.money
    # mutant: line totals truncated instead of rounded cents handling of refresh -> refresh does nothing
    monkeypatch.setattr(tc, "refresh_cart", lambda s, *, session_id: _cart.get_cart(s, session_id=session_id))
    with pytest.raises(AssertionError):
        tc.test_cart_state_machine(machine_db)
