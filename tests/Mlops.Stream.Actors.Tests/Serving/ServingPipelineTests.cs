using System.Text;
using Akka.Streams;
using Confluent.Kafka;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Actors.Tests.Batching;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Embedded;
using Xunit.Abstractions;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>
/// The real Kafka path of a replica (consumer → batcher → producer → committer) on an embedded
/// broker whose producers refuse records over a small size: outputs Kafka will not take become
/// dead letters with the reason and the request's bytes, a dead letter it will not take becomes a
/// bare reference to the request, and neither stops the stream or loses the records around it.
/// </summary>
public sealed partial class ServingPipelineTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private const string Model = "fake";
    private const int Partitions = 3;
    private const int MaxMessageBytes = 12_000;
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_served_event_kafka_refuses_becomes_a_dead_letter_with_the_reason_and_the_request_bytes_and_the_stream_goes_on()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        // 2,000 rows: a ~8 KB request and prediction, but a ~16 KB served event (inputs and outputs).
        var large = Encode(FakeModel.Request("large", 1.5f, rows: 2_000));
        var small = Enumerable.Range(0, 30).Select(i => Encode(FakeModel.Request($"small-{i}", i))).ToList();
        await Produce(broker, topics.Requests, [.. small.Take(15), large, .. small.Skip(15)]);

        await using var run = await RunPipeline(broker, topics);
        await run.WaitUntilCommittedAsync(broker, topics.Requests, small.Count + 1);

        var predictions = Read(broker, topics.Predictions);
        Assert.Equal(small.Count + 1, predictions.Count);   // the large request's prediction fits
        Assert.Equal(small.Count, Read(broker, topics.Served).Count);
        var letter = Assert.Single(Read(broker, topics.DeadLetters));
        Assert.Equal(large, letter.Message.Value);
        Assert.Equal(DeadLetters.OutputRefusedCode, Header(letter, ServingHeaders.ErrorCode));
        Assert.Contains(topics.Served, Header(letter, ServingHeaders.Error));
        Assert.Contains("served event", Header(letter, ServingHeaders.Error));
        Assert.Equal("large", Header(letter, ServingHeaders.RequestId));
        Assert.Equal(topics.Requests, Header(letter, ServingHeaders.SourceTopic));
        Assert.False(run.Control.StreamCompletion.IsCompleted, "the stream must keep running");
        using var exported = new MemoryStream();
        await run.Metrics.Registry.CollectAndExportAsTextAsync(exported);
        Assert.Contains("mlops_dead_letters_total{model=\"fake\",code=\"output_refused\"} 1\n", Encoding.UTF8.GetString(exported.ToArray()));
    }

    [Fact]
    public async Task In_exactly_once_mode_every_request_is_answered_once_in_transactions_and_a_refused_output_still_becomes_a_dead_letter()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        var large = Encode(FakeModel.Request("large", 1.5f, rows: 2_000));
        var small = Enumerable.Range(0, 300).Select(i => Encode(FakeModel.Request($"small-{i}", i))).ToList();
        await Produce(broker, topics.Requests, [.. small.Take(150), large, .. small.Skip(150)]);

        await using var run = await RunPipeline(broker, topics, KafkaDelivery.ExactlyOnce);
        await run.WaitUntilCommittedAsync(broker, topics.Requests, small.Count + 1);

        // One prediction per request, each with its own request's answer (the fake model doubles the input).
        var predictions = ReadTransactional(broker, topics.Predictions);
        Assert.Equal(small.Count + 1, predictions.Count);
        Assert.Equal(small.Count + 1, predictions.Select(p => Header(p, ServingHeaders.RequestId)).Distinct().Count());
        Assert.Equal(small.Count, ReadTransactional(broker, topics.Served).Count);
        // Refused on the spot (over message.max.bytes), the served event's dead letter joins the same transaction.
        var letter = Assert.Single(ReadTransactional(broker, topics.DeadLetters));
        Assert.Equal(large, letter.Message.Value);
        Assert.Equal(DeadLetters.OutputRefusedCode, Header(letter, ServingHeaders.ErrorCode));
        Assert.False(run.Control.StreamCompletion.IsCompleted, "the stream must keep running");
    }

    [Fact]
    public async Task A_dead_letter_kafka_refuses_becomes_a_reference_to_the_request_and_the_stream_goes_on()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        var garbage = Encoding.UTF8.GetBytes(new string('{', MaxMessageBytes * 2));   // does not decode, and too large to copy
        var good = Encode(FakeModel.Request("good", 2));
        await Produce(broker, topics.Requests, [garbage, good], key: "same-partition");

        await using var run = await RunPipeline(broker, topics);
        await run.WaitUntilCommittedAsync(broker, topics.Requests, 2);

        Assert.Single(Read(broker, topics.Predictions));
        var reference = Assert.Single(Read(broker, topics.DeadLetters));
        Assert.Null(reference.Message.Value);
        Assert.Equal("invalid_json", Header(reference, ServingHeaders.ErrorCode));
        Assert.Contains("refused too", Header(reference, ServingHeaders.Error));
        Assert.Equal(topics.Requests, Header(reference, ServingHeaders.SourceTopic));
        var source = Read(broker, topics.Requests).Single(r => r.Message.Value!.Length == garbage.Length);
        Assert.Equal(source.Partition.Value.ToString(), Header(reference, ServingHeaders.SourcePartition));
        Assert.Equal(source.Offset.Value.ToString(), Header(reference, ServingHeaders.SourceOffset));
        Assert.False(run.Control.StreamCompletion.IsCompleted, "the stream must keep running");
    }

    [Fact]
    public async Task When_kafka_refuses_even_the_reference_the_stream_fails_naming_the_request_record()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        await Produce(broker, topics.Requests, [Encode(FakeModel.Request("doomed", 1))], key: "k");
        var source = Assert.Single(Read(broker, topics.Requests));
        // Every produce request from here on is refused: the outputs, their dead letters and the bare reference.
        broker.PushRequestErrors(Kafka.Embedded.KafkaApi.Produce, Enumerable.Repeat(ErrorCode.MsgSizeTooLarge, 50).ToArray());

        await using var run = await RunPipeline(broker, topics);
        var failure = await Assert.ThrowsAsync<Kafka.Dsl.ProducerDeliveryException>(() => run.Control.StreamCompletion.WaitAsync(Guard));

        Assert.Equal(topics.DeadLetters, failure.Topic);
        var described = ServingPipeline.DescribeFailure(failure);
        Assert.Contains($"{topics.Requests} [{source.Partition.Value}] @ {source.Offset.Value}", described);
        Assert.Contains("too large", described, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Records_an_earlier_owner_answered_before_it_died_are_counted_as_duplicates_when_answered_again()
    {
        using var broker = EmbeddedKafka.Start();
        var topics = CreateTopics(broker);
        await Produce(broker, topics.Requests, Enumerable.Range(0, 60).Select(i => Encode(FakeModel.Request($"r-{i}", i))));
        var requests = Read(broker, topics.Requests);

        // A node that owned the partitions answered some records, committed only offsets 0-2 of
        // partition 0, and was killed. Its answers carry the record they answer and who wrote them.
        const string deadNode = "fake#0/0badc0de/1";
        var answeredBefore = requests.Where(r => r.Offset.Value < 10).ToList();
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            foreach (var request in answeredBefore)
                await producer.ProduceAsync(topics.Predictions, Answer(request, deadNode));
            // Partition 2, offset 0 was answered twice already (two owners died in turn): answering it again is still one duplicate.
            var twice = answeredBefore.First(r => r.Partition.Value == 2 && r.Offset.Value == 0);
            await producer.ProduceAsync(topics.Predictions, Answer(twice, "fake#1/feedface/4"));
            // A dead letter answers its record too.
            var deadLettered = requests.First(r => r.Partition.Value == 1 && r.Offset.Value >= 10);
            await producer.ProduceAsync(topics.DeadLetters, Answer(deadLettered, deadNode));
        }
        using (var committer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
               {
                   BootstrapServers = broker.BootstrapServers, GroupId = ModelTopics.ConsumerGroup(Model), EnableAutoCommit = false,
               }).Build())
            committer.Commit([new TopicPartitionOffset(topics.Requests, 0, 3)]);

        await using var run = await RunPipeline(broker, topics);
        await run.WaitUntilCommittedAsync(broker, topics.Requests, requests.Count);

        // Redelivered and answered again: offsets 3-9 of partition 0, 0-9 of partitions 1 and 2, and the dead-lettered record.
        var expected = answeredBefore.Count(r => r.Partition.Value != 0 || r.Offset.Value >= 3) + 1;
        await Eventually.HoldsAsync(async () => await CountedDuplicates(run.Metrics) == expected,
            $"{expected} duplicates are counted", Guard, () => CountedDuplicates(run.Metrics).Result);

        // Every answer the pipeline wrote names the record it answers and this replica as its writer.
        var ours = Read(broker, topics.Predictions).Where(p => Header(p, ServingHeaders.AnsweredBy)!.StartsWith($"{Model}/", StringComparison.Ordinal)).ToList();
        Assert.Equal(requests.Count - 3, ours.Count);
        Assert.Equal(
            requests.Where(r => r.Partition.Value != 0 || r.Offset.Value >= 3).Select(r => $"{r.Partition.Value}@{r.Offset.Value}").Order(),
            ours.Select(p => $"{Header(p, ServingHeaders.SourcePartition)}@{Header(p, ServingHeaders.SourceOffset)}").Order());
    }

    /// <summary>An answer as a serving node writes it: the request's key, headers naming the record it answers and its writer.</summary>
    private static Message<byte[]?, byte[]?> Answer(ConsumeResult<byte[]?, byte[]?> request, string answeredBy)
    {
        var headers = new Headers();
        ServingRecords.AddAnswerHeaders(headers, request.Partition.Value, request.Offset.Value, answeredBy);
        return new Message<byte[]?, byte[]?> { Key = request.Message.Key, Value = "{}"u8.ToArray(), Headers = headers };
    }

    private static async Task<double> CountedDuplicates(ServingMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        var line = Encoding.UTF8.GetString(stream.ToArray()).Split('\n')
            .SingleOrDefault(l => l.StartsWith($"mlops_kafka_duplicates_total{{model=\"{Model}\"}}", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class PipelineRun(Kafka.Dsl.DrainingControl<Akka.Done> control, DynamicBatcher batcher, FakeModel model, ServingMetrics metrics)
        : IAsyncDisposable
    {
        public Kafka.Dsl.DrainingControl<Akka.Done> Control => control;

        public ServingMetrics Metrics => metrics;

        public async Task WaitUntilCommittedAsync(EmbeddedKafka broker, string topic, int records)
        {
            await Eventually.HoldsAsync(() =>
            {
                if (control.StreamCompletion.IsFaulted) throw control.StreamCompletion.Exception!;
                return control.Metrics.CommittedOffsets.Where(c => c.Key.Topic == topic).Sum(c => c.Value) >= records;
            }, $"all {records} requests are committed", Guard, () => control.Metrics);
        }

        public async ValueTask DisposeAsync()
        {
            try { await control.DrainAndShutdown().WaitAsync(Guard); }
            catch (Kafka.Dsl.ProducerDeliveryException) { /* the failure a test provoked; the consumer is closed all the same */ }
            await batcher.DisposeAsync();
            model.Dispose();
        }
    }

    private async Task<PipelineRun> RunPipeline(EmbeddedKafka broker, ModelTopics topics, KafkaDelivery delivery = KafkaDelivery.AtLeastOnce)
    {
        var model = new FakeModel();
        var batcher = new DynamicBatcher(model, new BatchingSettings { MaxBatchSize = 4_096, MaxQueueSize = 4_096, MaxQueueDelay = TimeSpan.FromMilliseconds(1) });
        var metrics = ServingMetrics.Detached();
        var kafka = new ServingKafkaSettings(broker.BootstrapServers, new KafkaHealthMonitor(),
            new Dictionary<string, string> { ["auto.offset.reset"] = "earliest", ["fetch.wait.max.ms"] = "5" },
            new Dictionary<string, string> { ["message.max.bytes"] = MaxMessageBytes.ToString() }, InFlight: 256, delivery);
        var control = new ServingPipeline(new ReplicaInference(Model, new ReplicaRouter(batcher), new VersionStatistics(), metrics), topics)
            .Run(kafka, Sys.Materializer());
        return await Task.FromResult(new PipelineRun(control, batcher, model, metrics));
    }

    private static ModelTopics CreateTopics(EmbeddedKafka broker)
    {
        var topics = ModelTopics.For(Kafka.Topics.TopicCatalog.Default, Model);
        foreach (var topic in new[] { topics.Requests, topics.Predictions, topics.Served, topics.DeadLetters })
            broker.CreateTopic(topic, Partitions);
        return topics;
    }

    private static byte[] Encode(InferenceRequest request) => InferenceCodec.EncodeRequest(request);

    private static async Task Produce(EmbeddedKafka broker, string topic, IEnumerable<byte[]> values, string? key = null)
    {
        using var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var i = 0;
        foreach (var value in values)
            await producer.ProduceAsync(topic, new Message<string?, byte[]> { Key = key ?? $"k{i++}", Value = value });
    }

    /// <summary>Everything on the topic now (the pipeline has committed, so its outputs were acknowledged before).</summary>
    private static List<ConsumeResult<byte[]?, byte[]?>> Read(EmbeddedKafka broker, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = $"read-{Guid.NewGuid():N}", EnableAutoCommit = false,
        }).Build();
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        for (var partition = 0; partition < Partitions; partition++)
        {
            var tp = new TopicPartition(topic, partition);
            var end = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
            if (end == 0) continue;
            consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
            while (records.Count(r => r.Partition.Value == partition) < end)
                if (consumer.Consume(TimeSpan.FromSeconds(10)) is { Message: not null } record) records.Add(record);
                else Assert.Fail($"could not read {topic} [{partition}] up to {end}");
        }
        return records;
    }

    /// <summary>
    /// Everything a read_committed reader gets from the topic, read until it is quiet: commit markers
    /// take offsets of their own, so counting up to the end offset does not work for transactional topics.
    /// </summary>
    private static List<ConsumeResult<byte[]?, byte[]?>> ReadTransactional(EmbeddedKafka broker, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = $"read-{Guid.NewGuid():N}", EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        while (consumer.Consume(TimeSpan.FromSeconds(2)) is { } record)
            if (record.Message is not null) records.Add(record);
        return records;
    }

    private static string? Header(ConsumeResult<byte[]?, byte[]?> record, string name) => ServingHeaders.Read(record.Message.Headers, name);
}
