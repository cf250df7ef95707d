"""Our murmur2 partitions every key as Kafka's clients do."""

from aiokafka.partitioner import DefaultPartitioner, murmur2
from hypothesis import given
from hypothesis import strategies as st

from shared.bus import partitioner


@given(st.binary(max_size=200))
def test_the_hash_is_kafkas(key: bytes) -> None:
    assert partitioner.murmur2(key) == murmur2(key)


@given(st.binary(min_size=1, max_size=60), st.integers(min_value=1, max_value=64))
def test_a_key_goes_to_the_partition_any_client_picks(key: bytes, count: int) -> None:
    partitions = list(range(count))
    expected = DefaultPartitioner()(key, partitions, partitions)
    assert partitioner.Murmur2Partitioner()(key, partitions, partitions) == expected


def test_known_hashes_of_the_java_client() -> None:
    # org.apache.kafka.common.utils.Utils.murmur2, as the Java client's tests give them.
    assert partitioner.murmur2(b"21") == -973932308 & 0xFFFFFFFF
    assert partitioner.murmur2(b"foobar") == -790332482 & 0xFFFFFFFF
