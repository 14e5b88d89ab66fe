using Mlops.Stream.Actors.Serving;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Embedded;

namespace Mlops.Stream.Faults;

/// <summary>
/// Something that happens to the broker in the middle of a run, through the embedded broker's
/// fault hooks. <see cref="InjectAsync"/> returns when the fault is over (the broker is back,
/// the delay removed, the pushed errors met or cleared). <see cref="Brokers"/> is how many
/// brokers the cluster needs for it.
/// </summary>
public sealed record BrokerFault(string Name, string Description, Func<EmbeddedKafka, ModelTopics, CancellationToken, Task> InjectAsync, int Brokers = 1)
{
    /// <summary>What is done to the node at the same time (swaps, rollbacks), if anything; the fault is over when both are.</summary>
    public Func<FaultTarget, CancellationToken, Task>? OnNodeAsync { get; init; }

    /// <summary>What is done to the node before the load starts (versions registered and promoted), if anything.</summary>
    public Func<FaultTarget, CancellationToken, Task>? PrepareAsync { get; init; }

    /// <summary>Settings the node under test must start with for this fault (e.g. a short HTTP deadline).</summary>
    public IReadOnlyList<string> NodeArguments { get; init; } = [];

    /// <summary>Poisoned requests and the HTTP refusals the fault allows.</summary>
    public LoadShape Load { get; init; } = LoadShape.Plain;

    /// <summary>
    /// Whether the run watches the node's consumer lag (and memory, where it can see the node's
    /// process) and, after the fault, keeps the load on until the lag is back to what it was before.
    /// </summary>
    public bool AwaitsRecovery { get; init; }

    public override string ToString() => Name;
}

/// <summary>The broker faults of issue 14 (scenarios 1 to 5, and a rebalance by lost partitions), each short enough to run in CI.</summary>
public static class BrokerFaults
{
    /// <summary>How long slow answers and pushed errors last.</summary>
    private static readonly TimeSpan FaultTime = TimeSpan.FromSeconds(4);

    /// <summary>1. The only broker goes away for 10 s: connections closed, new ones refused, then it comes back.</summary>
    public static readonly BrokerFault BrokerDown = new("broker-down", "broker down 10 s, then up", async (broker, _, stop) =>
    {
        broker.SetBrokerDown(1);
        try { await Task.Delay(TimeSpan.FromSeconds(10), stop).ConfigureAwait(false); }
        finally { broker.SetBrokerUp(1); }
    });

    /// <summary>2. Every answer of the broker is 500 ms late for a while.</summary>
    public static readonly BrokerFault SlowBroker = new("rtt-500ms", "every broker answer 500 ms late for 4 s", async (broker, _, stop) =>
    {
        broker.SetBrokerRtt(TimeSpan.FromMilliseconds(500));
        try { await Task.Delay(FaultTime, stop).ConfigureAwait(false); }
        finally { broker.SetBrokerRtt(TimeSpan.Zero); }
    });

    /// <summary>3. Produce requests fail with retriable errors for a while (the node's and the load's alike).</summary>
    public static readonly BrokerFault ProduceErrors = new("produce-errors", "60 produce requests fail (NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT)", (broker, _, stop) =>
        PushForAWhile(broker, KafkaApi.Produce, [ErrorCode.NotEnoughReplicas, ErrorCode.RequestTimedOut], 30, stop));

    /// <summary>4. Offset commits fail for a while: the node must neither lose nor stall, at most redeliver.</summary>
    public static readonly BrokerFault CommitErrors = new("commit-errors", "60 offset commits fail (REQUEST_TIMED_OUT, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR)", (broker, _, stop) =>
        PushForAWhile(broker, KafkaApi.OffsetCommit, [ErrorCode.RequestTimedOut, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup], 20, stop));

    /// <summary>5. The leaders of every partition of the model's topics move to the other broker, then back.</summary>
    public static readonly BrokerFault LeaderMove = new("leader-move", "every model partition's leader moves to broker 2, then back to broker 1", async (broker, topics, stop) =>
    {
        var partitions = ModelPartitions(broker.BootstrapServers, topics);
        MoveLeaders(broker, partitions, 2);
        await Task.Delay(FaultTime / 2, stop).ConfigureAwait(false);
        MoveLeaders(broker, partitions, 1);
    }, Brokers: 2);

    /// <summary>
    /// 6 (a rebalance without scaling): the consumer loses its partitions and joins again while every
    /// answer is 500 ms late, so answers and commits from before are slow to land when the
    /// partitions come back and their uncommitted records are answered again.
    /// </summary>
    public static readonly BrokerFault SlowRebalance = new("slow-rebalance", "heartbeats refused (ILLEGAL_GENERATION: partitions lost, group joined again) while every broker answer is 500 ms late", async (broker, _, stop) =>
    {
        broker.SetBrokerRtt(TimeSpan.FromMilliseconds(500));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
            // The next heartbeats are told their member is of an old generation: its partitions are lost
            // (no commit on the way out) and it joins again. Any group's heartbeat may meet them (the
            // drift job's too), so there are enough for the serving group to meet one.
            broker.PushRequestErrors(KafkaApi.Heartbeat, [.. Enumerable.Repeat(ErrorCode.IllegalGeneration, 6)]);
            await Task.Delay(FaultTime + FaultTime, stop).ConfigureAwait(false);
        }
        finally
        {
            broker.ClearRequestErrors(KafkaApi.Heartbeat);
            broker.SetBrokerRtt(TimeSpan.Zero);
        }
    });

    /// <summary>
    /// 11. Ten promotions and two rollbacks of the model while the broker goes down, comes back and
    /// answers late: every swap must keep every request (Kafka and HTTP) answered, by the version
    /// each prediction names (the checker runs each on that version's own file).
    /// </summary>
    public static readonly BrokerFault SwapsDuringFaults = new("swaps-under-faults",
        "10 promotions and 2 rollbacks while the broker is down 4 s, then 500 ms late 4 s", async (broker, _, stop) =>
        {
            broker.SetBrokerDown(1);
            try { await Task.Delay(FaultTime, stop).ConfigureAwait(false); }
            finally { broker.SetBrokerUp(1); }
            broker.SetBrokerRtt(TimeSpan.FromMilliseconds(500));
            try { await Task.Delay(FaultTime, stop).ConfigureAwait(false); }
            finally { broker.SetBrokerRtt(TimeSpan.Zero); }
        })
    {
        OnNodeAsync = ModelSwaps.PromoteAndRollBackAsync,
    };

    public static IReadOnlyList<BrokerFault> All { get; } = [BrokerDown, SlowBroker, ProduceErrors, CommitErrors, LeaderMove, SlowRebalance, SwapsDuringFaults];

    public static BrokerFault Named(string name) => All.Single(f => f.Name == name);

    private static async Task PushForAWhile(EmbeddedKafka broker, KafkaApi api, ErrorCode[] errors, int rounds, CancellationToken stop)
    {
        broker.PushRequestErrors(api, [.. Enumerable.Repeat(errors, rounds).SelectMany(e => e)]);
        // Requests meet the errors one each; whatever is left after a while is cleared, so the run ends normally.
        try { await Task.Delay(FaultTime, stop).ConfigureAwait(false); }
        finally { broker.ClearRequestErrors(api); }
    }

    private static void MoveLeaders(EmbeddedKafka broker, IReadOnlyList<TopicPartition> partitions, int leader)
    {
        foreach (var partition in partitions) broker.SetPartitionLeader(partition.Topic, partition.Partition.Value, leader);
    }

    private static List<TopicPartition> ModelPartitions(string bootstrapServers, ModelTopics topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        return [.. new[] { topics.Requests, topics.Predictions, topics.Served, topics.DeadLetters }.SelectMany(topic =>
            admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)))];
    }
}
