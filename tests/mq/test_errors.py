import pytest

from mq import AckError, Closed, Empty, Full, MQError, TopicExists, UnknownTopic


@pytest.mark.parametrize("error", [Full, Empty, Closed, AckError, UnknownTopic, TopicExists])
def test_every_error_is_an_mq_error(error):
    assert issubclass(error, MQError)


def test_unknown_topic_is_also_a_lookup_error():
    assert issubclass(UnknownTopic, LookupError)


@pytest.mark.parametrize("error", [Full, Closed])
def test_full_and_closed_say_how_many_items_went_in(error):
    assert error().accepted == 0
    raised = error("three went in", accepted=3)
    assert raised.accepted == 3
    assert str(raised) == "three went in"
