import gc
import threading

from mq import Broker
from mq.reaper import Reaper

from .conftest import JOIN_TIMEOUT, FakeClock


def test_the_reaper_thread_drops_expired_messages_every_interval():
    clock = FakeClock()
    broker = Broker(clock=clock, reaper_interval=0.001)
    try:
        broker.create_topic("t")
        broker.subscribe("t")
        broker.publish("t", "x", ttl=1)
        clock.advance(1)
        done = threading.Event()
        real_reap = broker.reap

        def reap():  # the reaper thread calls broker.reap(): note the first pass that removed something
            removed = real_reap()
            if removed:
                done.set()
            return removed

        broker.reap = reap
        assert done.wait(JOIN_TIMEOUT)
        assert broker.stats()["t"][None].expired == 1
    finally:
        assert broker.shutdown(drain=False, timeout=JOIN_TIMEOUT)


def test_stop_ends_the_reaper_without_waiting_for_the_interval():
    broker = Broker(reaper_interval=3600)
    reaper = broker._reaper
    reaper.stop()
    assert reaper.join(JOIN_TIMEOUT)
    assert reaper.passes == 0
    broker.shutdown()


def test_the_reaper_ends_when_its_broker_is_garbage_collected():
    broker = Broker(reaper_interval=0.001)
    reaper = broker._reaper
    del broker
    gc.collect()
    assert reaper.join(JOIN_TIMEOUT)


def test_a_reaper_can_run_for_any_object_with_a_reap_method():
    class Target:
        def __init__(self):
            self.called = threading.Event()

        def reap(self):
            self.called.set()
            return 0

    target = Target()
    reaper = Reaper(target, 0.001)
    reaper.start()
    assert target.called.wait(JOIN_TIMEOUT)
    reaper.stop()
    assert reaper.join(JOIN_TIMEOUT)
    assert not reaper.is_alive()
    assert reaper.interval == 0.001
