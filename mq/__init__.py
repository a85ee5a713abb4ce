"""mq: a reference multi-threaded message broker, standard library only.

    from mq import Broker

    with Broker() as broker:
        broker.create_topic("orders", capacity=100)
        subscription = broker.subscribe("orders", "billing")
        broker.publish("orders", {"id": 1})
        delivery = subscription.get(timeout=1)
        delivery.ack()

See docs/broker.md for the design and README.md for the demo.
"""

from mq.broker import Broker
from mq.delivery import DeadLetter, Delivery, DeliveryState
from mq.errors import AckError, Closed, Empty, Full, MQError, TopicExists, UnknownTopic
from mq.message import Message
from mq.queue import BoundedQueue
from mq.stats import BrokerStats, GroupStats, QueueStatistics, TopicStats
from mq.delivery import Subscription
from mq.workers import Consumer, Producer, Workers

__all__ = [
    "AckError",
    "BoundedQueue",
    "Broker",
    "BrokerStats",
    "Closed",
    "Consumer",
    "DeadLetter",
    "Delivery",
    "DeliveryState",
    "Empty",
    "Full",
    "GroupStats",
    "MQError",
    "Message",
    "Producer",
    "QueueStatistics",
    "Subscription",
    "TopicExists",
    "TopicStats",
    "UnknownTopic",
    "Workers",
]
