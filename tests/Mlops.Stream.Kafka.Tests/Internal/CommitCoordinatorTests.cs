using Confluent.Kafka;
using Mlops.Stream.Kafka.Internal;

namespace Mlops.Stream.Kafka.Tests.Internal;

public sealed class CommitCoordinatorTests
{
    private static readonly TopicPartition Partition = new("requests", 0);

    [Fact]
    public async Task Records_a_stopped_source_dropped_are_not_waited_for_and_do_not_hold_back_the_commit_of_those_before_them()
    {
        var commits = new List<IReadOnlyList<TopicPartitionOffset>>();
        var coordinator = new CommitCoordinator(commits.Add);
        coordinator.OnAssigned([Partition]);
        var offsets = Enumerable.Range(0, 5).Select(o => coordinator.OnConsumed(Partition, o)!.Value).ToList();

        // 0..2 were handed downstream; 3 and 4 were still buffered when the source stopped.
        coordinator.Abandon(offsets.Skip(3));

        // A revocation now waits only for the three handed downstream...
        Assert.Equal(3, coordinator.AwaitInFlight([Partition], new Dictionary<TopicPartition, int>(), TimeSpan.Zero));
        foreach (var offset in offsets.Take(3)) coordinator.MarkCompleted(offset);
        Assert.Equal(0, coordinator.AwaitInFlight([Partition], new Dictionary<TopicPartition, int>(), TimeSpan.Zero));

        // ...and commits up to them: the next owner starts at 3.
        var outcome = await coordinator.CommitCompletedAsync();
        Assert.True(outcome.Succeeded);
        Assert.Equal(3, Assert.Single(Assert.Single(commits)).Offset.Value);
    }

    [Fact]
    public void Offsets_of_an_earlier_assignment_are_not_abandoned_from_the_current_one()
    {
        var coordinator = new CommitCoordinator(_ => { });
        coordinator.OnAssigned([Partition]);
        var earlier = coordinator.OnConsumed(Partition, 0)!.Value;
        coordinator.OnRevoked([Partition], TimeSpan.Zero);
        coordinator.OnAssigned([Partition]);
        _ = coordinator.OnConsumed(Partition, 0);

        coordinator.Abandon([earlier]);

        Assert.Equal(1, coordinator.InFlight);
    }

    private sealed class Generation : IConsumerGroupMetadata;

    [Fact]
    public void A_transaction_holding_a_partition_its_consumer_no_longer_owns_is_refused_its_offsets_so_it_aborts()
    {
        var generations = new Queue<IConsumerGroupMetadata>([new Generation(), new Generation()]);
        var coordinator = new CommitCoordinator(_ => { }, () => generations.Dequeue());
        var other = new TopicPartition("requests", 1);
        coordinator.OnAssigned([Partition, other]);
        var first = coordinator.OnConsumed(Partition, 7)!.Value;
        var second = coordinator.OnConsumed(other, 3)!.Value;

        // Still owned: the offsets go with the generation of the assignment they came from.
        var group = coordinator.TransactionMetadataFor([(first.TopicPartition, first.Epoch), (second.TopicPartition, second.Epoch)]);

        // Revoked (or lost, or the consumer closed) before the transaction commits: no offsets, abort.
        coordinator.OnRevoked([Partition], TimeSpan.Zero);
        var stale = Assert.Throws<StaleTransactionOffsetsException>(() =>
            coordinator.TransactionMetadataFor([(first.TopicPartition, first.Epoch), (second.TopicPartition, second.Epoch)]));
        Assert.Equal([Partition], stale.Partitions);

        // Assigned again: a new assignment (and generation); the old records' offsets are still refused.
        coordinator.OnAssigned([Partition]);
        Assert.Throws<StaleTransactionOffsetsException>(() => coordinator.TransactionMetadataFor([(first.TopicPartition, first.Epoch)]));
        var again = coordinator.OnConsumed(Partition, 7)!.Value;
        Assert.NotSame(group, coordinator.TransactionMetadataFor([(again.TopicPartition, again.Epoch)]));
    }
}
