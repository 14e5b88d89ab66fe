using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Actors.Serving.Duplicates;
using Mlops.Stream.Kafka.Embedded;

namespace Mlops.Stream.Actors.Tests.Serving.Duplicates;

/// <summary>Reading a model's answer topics back from their end, on an embedded broker.</summary>
public sealed class KafkaAnswerLogTests
{
    private const string Predictions = "answers.predictions";
    private const string DeadLetters = "answers.dlq";
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Reads_back_through_as_many_chunks_as_the_answers_since_the_first_request_need()
    {
        using var broker = Broker();
        await Produce(broker, Predictions, Enumerable.Range(0, 2_000).Select(i => (0, (long)i, "dead#0/aaaaaaaa/1", Now)));

        var found = Log(broker, maxRecords: 10_000).Find([new AnswerQuery(0, 0, Now.AddMinutes(-1), "me#0/bbbbbbbb/1")], CancellationToken.None);

        Assert.Equal(2_000, found.Single().Offsets.Count);
        Assert.Null(found.Single().Incomplete);
    }

    [Fact]
    public async Task Stops_at_answers_older_than_the_first_request_so_a_long_history_costs_nothing()
    {
        using var broker = Broker();
        var anHourAgo = Now.AddHours(-1);
        await Produce(broker, Predictions, Enumerable.Range(0, 3_000).Select(i => (1, (long)i, "old#0/aaaaaaaa/1", anHourAgo)));
        await Produce(broker, Predictions, Enumerable.Range(5_000, 10).Select(i => (1, (long)i, "dead#0/aaaaaaaa/2", Now)));

        // Reading the whole history would exceed this budget and say so.
        var found = Log(broker, maxRecords: 1_000).Find([new AnswerQuery(1, 5_000, Now.AddSeconds(-1), "me#0/bbbbbbbb/1")], CancellationToken.None);

        Assert.Null(found.Single().Incomplete);
        Assert.Equal(Enumerable.Range(5_000, 10).Select(i => (long)i), found.Single().Offsets.Order());
    }

    [Fact]
    public async Task Finds_answers_of_the_asked_partition_from_the_asked_offset_by_others_in_predictions_and_dead_letters()
    {
        using var broker = Broker();
        const string me = "me#0/bbbbbbbb/3";
        await Produce(broker, Predictions,
        [
            (2, 9, "dead#0/aaaaaaaa/1", Now),    // before the offset asked from: committed, never redelivered
            (2, 10, "dead#0/aaaaaaaa/1", Now),
            (2, 11, me, Now),                    // our own answer in this assignment
            (3, 12, "dead#0/aaaaaaaa/1", Now),   // another partition
            (2, 13, "me#0/bbbbbbbb/2", Now),     // ours, but from an earlier assignment: answering again is a duplicate
        ]);
        await Produce(broker, DeadLetters, [(2, 14, "dead#0/aaaaaaaa/1", Now)]);

        var found = Log(broker, maxRecords: 1_000).Find(
            [new AnswerQuery(2, 10, Now.AddSeconds(-1), me), new AnswerQuery(3, 0, Now.AddSeconds(-1), "me#1/cccccccc/1")], CancellationToken.None);

        Assert.Equal([10L, 13, 14], found[0].Offsets.Order());
        Assert.Equal([12L], found[1].Offsets);
    }

    private static EmbeddedKafka Broker()
    {
        var broker = EmbeddedKafka.Start();
        broker.CreateTopic(Predictions, 4);
        broker.CreateTopic(DeadLetters, 2);
        return broker;
    }

    private static KafkaAnswerLog Log(EmbeddedKafka broker, long maxRecords) =>
        new(KafkaAnswerLog.ReaderConfig(broker.BootstrapServers, new Dictionary<string, string> { ["fetch.wait.max.ms"] = "5" }, "m"),
            [Predictions, DeadLetters], maxRecords);

    /// <summary>Answers as serving nodes write them, all to one partition of the topic so their order is the order given.</summary>
    private static async Task Produce(EmbeddedKafka broker, string topic, IEnumerable<(int Partition, long Offset, string AnsweredBy, DateTimeOffset At)> answers)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5 }).Build();
        var sends = new List<Task>();
        foreach (var (partition, offset, answeredBy, at) in answers)
        {
            var headers = new Headers();
            ServingRecords.AddAnswerHeaders(headers, partition, offset, answeredBy);
            sends.Add(producer.ProduceAsync(new TopicPartition(topic, 0),
                new Message<Null, byte[]> { Value = "{}"u8.ToArray(), Headers = headers, Timestamp = new Timestamp(at) }));
        }
        await Task.WhenAll(sends);
    }
}
