import copy
import math
import pickle

import pytest

from mq import Message
from mq.message import NO_HEADERS, published, redelivery


def a_published_message(**overrides):
    fields = dict(id=7, topic="orders", payload={"n": 1}, headers=NO_HEADERS, priority=0, ttl=None, now=100.0)
    fields.update(overrides)
    return published(**fields)


def test_a_message_built_by_hand_is_unpublished():
    message = Message("hello", ttl=2, priority=3, headers={"k": "v"})
    assert message.payload == "hello"
    assert message.ttl == 2
    assert message.priority == 3
    assert dict(message.headers) == {"k": "v"}
    assert message.id is None
    assert message.topic is None
    assert message.created_at is None
    assert message.expires_at is None
    assert message.delivery_count == 0


def test_defaults_are_no_ttl_priority_zero_and_empty_headers():
    message = Message(b"x")
    assert (message.ttl, message.priority, dict(message.headers)) == (None, 0, {})


def test_a_message_cannot_be_changed_or_emptied():
    message = Message("x")
    with pytest.raises(AttributeError, match="immutable: cannot set 'payload'"):
        message.payload = "y"
    with pytest.raises(AttributeError, match="immutable: cannot delete 'id'"):
        del message.id


def test_headers_are_a_read_only_copy():
    headers = {"k": "v"}
    message = Message("x", headers=headers)
    headers["k"] = "changed"
    assert message.headers["k"] == "v"
    with pytest.raises(TypeError):
        message.headers["k"] = "w"  # type: ignore[index]


def test_headers_must_be_a_mapping():
    with pytest.raises(TypeError, match="'headers' must be a mapping or None, got \\[1\\]"):
        Message("x", headers=[1])


@pytest.mark.parametrize("ttl", [0, -1, -0.5, math.nan])
def test_a_ttl_that_is_not_positive_is_a_value_error_naming_ttl(ttl):
    with pytest.raises(ValueError, match="'ttl' must be a positive number"):
        Message("x", ttl=ttl)


@pytest.mark.parametrize("ttl", ["1", True, [1]])
def test_a_ttl_that_is_not_a_number_is_a_type_error_naming_ttl(ttl):
    with pytest.raises(TypeError, match="'ttl' must be a positive number"):
        Message("x", ttl=ttl)


@pytest.mark.parametrize("priority", ["high", None, True, 1j])
def test_a_priority_that_is_not_a_number_is_a_type_error(priority):
    with pytest.raises(TypeError, match="'priority' must be a number"):
        Message("x", priority=priority)


def test_a_nan_priority_is_a_value_error():
    with pytest.raises(ValueError, match="'priority' must be a number that is not NaN"):
        Message("x", priority=math.nan)


def test_a_published_message_has_its_id_topic_times_and_first_delivery_number():
    message = a_published_message(ttl=5.0)
    assert (message.id, message.topic, message.created_at, message.expires_at) == (7, "orders", 100.0, 105.0)
    assert message.delivery_count == 1
    assert type(message) is Message


def test_is_expired_compares_the_expiry_with_the_time_given():
    message = a_published_message(ttl=5.0)
    assert not message.is_expired(104.999)
    assert message.is_expired(105.0)
    assert not a_published_message().is_expired(10**9)


def test_a_redelivery_is_a_copy_with_the_delivery_count_increased():
    message = a_published_message(priority=4, ttl=1.0)
    again = redelivery(message)
    assert again is not message
    assert again.delivery_count == 2
    assert message.delivery_count == 1
    assert (again.id, again.payload, again.priority, again.expires_at) == (7, {"n": 1}, 4, 101.0)


def test_equal_fields_make_equal_messages_with_equal_hashes():
    first, second = a_published_message(), a_published_message()
    assert first == second
    assert hash(first) == hash(second)
    assert first != redelivery(first)
    assert first != "not a message"


def test_a_message_survives_copy_and_pickle():
    message = a_published_message(headers=Message("x", headers={"a": 1}).headers)
    for clone in (copy.copy(message), copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert clone == message
        assert type(clone) is Message
        with pytest.raises(AttributeError):
            clone.id = 1


def test_repr_shows_the_fields_that_are_set():
    assert repr(Message("x")) == "Message(id=None, payload='x', delivery_count=0)"
    text = repr(a_published_message(priority=2, ttl=3, headers=Message("x", headers={"a": 1}).headers))
    assert text == (
        "Message(id=7, topic='orders', payload={'n': 1}, priority=2, ttl=3, headers={'a': 1}, delivery_count=1)"
    )
