using System.Collections.Concurrent;
using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Settings;
using Mlops.Stream.Kafka.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mlops.Stream.Kafka.Tests.Dsl;

/// <summary>
/// The transactional producer flow (exactly-once). The embedded broker (librdkafka 2.16's mock) runs
/// transactions but does not keep the offsets committed in them, shows aborted records to
/// read_committed readers and does not fence a producer whose transactional id was taken over
/// (all three checked by hand against it), so what depends on those runs only against a real broker
/// (<c>KAFKA_BOOTSTRAP_SERVERS</c>, or a Docker engine for the Testcontainers broker).
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class ExactlyOnceTests(KafkaFixture kafka, ITestOutputHelper output) : StreamTestBase(kafka, output)
{
    private const string NeedsRealBroker =
        "needs a broker that keeps offsets committed in transactions, hides aborted records from read_committed readers and fences " +
        "a taken-over transactional id; the embedded one does none of these (set KAFKA_BOOTSTRAP_SERVERS or run where a Docker engine answers)";

    [Fact]
    public async Task An_element_leaves_the_flow_only_once_its_transaction_has_committed()
    {
        var input = await Kafka.CreateTopicAsync("eos-hold-in", 1);
        var outputTopic = await Kafka.CreateTopicAsync("eos-hold-out", 1);
        var group = Kafka.NewGroupId("eos-hold");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, 5);
        // Three elements fill a transaction; the timer never commits the two after them.
        var transactions = new TransactionSettings($"eos-hold-{Guid.NewGuid():N}") { MaxElements = 3, CommitInterval = TimeSpan.FromHours(1) };
        var emitted = new ConcurrentQueue<long>();

        var control = Pipeline(group, input, outputTopic, transactions, offset => emitted.Enqueue(offset.Offset));

        // All five outputs are written (a read_uncommitted reader sees the open transaction's two)...
        await StreamAssertions.EventuallyAsync(() => ReadAll(outputTopic, IsolationLevel.ReadUncommitted, 1).Count == 5, "five outputs written");
        // ...but only the committed transaction's three left the flow.
        Assert.Equal([0L, 1L, 2L], emitted.ToArray());

        // Draining ends the stream: the last transaction commits, then its elements leave.
        await control.DrainAndShutdown();
        Assert.Equal([0L, 1L, 2L, 3L, 4L], emitted.ToArray());
        if (Kafka.Kind != KafkaKind.Embedded)
            Assert.Equal(5, OffsetProbe.Committed(Kafka.BootstrapServers, group, input, 1)[0]);
        await Materializer.AssertAllStagesStoppedAsync();
    }

    [SkippableFact]
    public async Task A_producer_started_with_the_same_transactional_id_fences_the_running_flow()
    {
        Skip.If(Kafka.Kind == KafkaKind.Embedded, NeedsRealBroker);
        var input = await Kafka.CreateTopicAsync("eos-fence-in", 1);
        var outputTopic = await Kafka.CreateTopicAsync("eos-fence-out", 1);
        var id = $"eos-fence-{Guid.NewGuid():N}";
        var transactions = new TransactionSettings(id) { CommitInterval = TimeSpan.FromMilliseconds(50) };
        var emitted = new ConcurrentQueue<long>();
        var control = Pipeline(Kafka.NewGroupId("eos-fence"), input, outputTopic, transactions, offset => emitted.Enqueue(offset.Offset));
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, 10);
        await StreamAssertions.EventuallyAsync(() => emitted.Count == 10, "first ten committed");

        // The replica's next incarnation (say after a partition cut it off) starts with the same id.
        using var successor = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = Kafka.BootstrapServers, TransactionalId = id }).Build();
        successor.InitTransactions(KafkaTestClient.DefaultTimeout);
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, 10, "after-");

        // The old flow can no longer commit: it fails instead of writing beside its successor.
        var failure = await Assert.ThrowsAnyAsync<KafkaException>(() => control.StreamCompletion.WaitAsync(KafkaTestClient.DefaultTimeout));
        Output.WriteLine($"fenced: {failure.Error.Code} {failure.Error.Reason}");
        Assert.Equal(10, emitted.Count);
        await control.Shutdown();
    }

    [SkippableFact]
    public async Task Hundred_thousand_records_through_crashes_every_ten_thousand_and_rebalances_are_answered_exactly_once()
    {
        Skip.If(Kafka.Kind == KafkaKind.Embedded, NeedsRealBroker);
        const int partitions = 8, count = 100_000, crashEvery = 10_000;
        var input = await Kafka.CreateTopicAsync("eos-crash-in", partitions);
        var outputTopic = await Kafka.CreateTopicAsync("eos-crash-out", partitions);
        var group = Kafka.NewGroupId("eos-crash");
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, input, count);

        var processed = 0;
        var crashes = 0;
        var id = $"eos-crash-{Guid.NewGuid():N}";
        for (var run = 0; !AllCommitted(group, input, partitions, count); run++)
        {
            Assert.True(run < 30, "the runs did not get through the backlog");
            // Every run dies after another crashEvery elements, in the middle of a transaction.
            var crashAt = Interlocked.CompareExchange(ref processed, 0, 0) + crashEvery;
            var control = Pipeline(group, input, outputTopic, new TransactionSettings(id), _ => { }, _ =>
            {
                if (Interlocked.Increment(ref processed) == crashAt) throw new InvalidOperationException("forced crash");
            });
            // Halfway through some runs a second member joins for a while: partitions move between them.
            DrainingControl<Done>? second = null;
            if (run % 2 == 1)
                second = Pipeline(group, input, outputTopic, new TransactionSettings($"{id}-second"), _ => { });
            try
            {
                // The last run may finish the backlog before its crash comes.
                await StreamAssertions.EventuallyAsync(() => control.StreamCompletion.IsFaulted || AllCommitted(group, input, partitions, count),
                    "the run crashed or the backlog was done", TimeSpan.FromMinutes(2));
                if (control.StreamCompletion.IsFaulted) crashes++;
            }
            finally
            {
                if (second is not null) await second.DrainAndShutdown();
                await control.Shutdown();
            }
        }

        var answers = ReadAll(outputTopic, IsolationLevel.ReadCommitted, partitions);
        Output.WriteLine($"crashes: {crashes}, elements processed: {processed}, committed answers: {answers.Count}");
        Assert.True(crashes >= 5, $"only {crashes} crashes happened");
        Assert.Equal(count, answers.Distinct().Count());   // 0 lost
        Assert.Equal(count, answers.Count);                // 0 duplicated
    }

    private bool AllCommitted(string group, string input, int partitions, int count) =>
        OffsetProbe.Committed(Kafka.BootstrapServers, group, input, partitions).Values.Sum(o => Math.Max(0, o)) == count;

    /// <summary>input → one output record per input (its value) → transactional flow → <paramref name="onEmitted"/> → committer.</summary>
    private DrainingControl<Done> Pipeline(string group, string input, string outputTopic, TransactionSettings transactions,
        Action<CommittableOffset> onEmitted, Action<ConsumeResult<string, string>>? onRecord = null) =>
        KafkaConsumer.SourceWithOffsetContext(ConsumerSettingsFor(group).WithTransactionalOffsets(), Subscriptions.Topics(input))
            .Select(record =>
            {
                onRecord?.Invoke(record);
                return ProducerMessage.Single(new ProducerRecord<string, string>(outputTopic, record.Message.Key, record.Message.Value));
            })
            .Via(KafkaProducer.TransactionalFlowWithContext<string, string, CommittableOffset>(
                ProducerSettingsFor().WithTransactions(transactions), offset => offset))
            .AsSource()
            .Select(pair =>
            {
                onEmitted(pair.Item2);
                return pair;
            })
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<string, string>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(Materializer);

    /// <summary>Every value on the topic as a reader with <paramref name="isolation"/> sees it, read until the topic is quiet.</summary>
    private List<string> ReadAll(string topic, IsolationLevel isolation, int partitions)
    {
        var config = KafkaTestClient.ConsumerConfig(Kafka.BootstrapServers, $"eos-reader-{Guid.NewGuid():N}");
        config.IsolationLevel = isolation;
        using var consumer = new ConsumerBuilder<string, string>(config).Build();
        // Assigned, not subscribed: no group to join, so the first record comes at once.
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var values = new List<string>();
        while (consumer.Consume(TimeSpan.FromSeconds(2)) is { } record)
            if (record.Message is not null) values.Add(record.Message.Value);
        return values;
    }
}
