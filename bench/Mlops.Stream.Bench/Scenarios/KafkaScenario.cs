using System.Collections.Concurrent;
using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Dsl;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Settings;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// The transport ceiling against our stages: the same consume → produce → commit work done by a
/// plain Confluent.Kafka loop and by source → producer flow → committer, side by side on one
/// embedded broker. The input is preloaded once; each side reads it with its own group and writes
/// its own output topic. Records are spread over enough partitions to stay far below the mock
/// broker's per-partition log cap.
/// </summary>
public static class KafkaScenario
{
    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var records = args.Int("records", 200_000);
        var partitions = args.Int("partitions", 16);
        var size = args.Int("size", 200);
        var rounds = args.Int("rounds", 3);

        using var broker = EmbeddedKafka.Start();
        broker.CreateTopic("bench-in", partitions);
        Console.WriteLine($"kafka: {records:N0} records of {size} B over {partitions} partitions, {rounds} round(s) each, embedded broker {broker.BootstrapServers}");
        await Preload(broker.BootstrapServers, "bench-in", records, size);

        using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
        var materializer = system.Materializer();
        var plain = new List<double>();
        var stages = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            // Alternate the order so neither side always runs on a warmer machine.
            var output = $"bench-out-{round}";
            broker.CreateTopic(output + "-plain", partitions);
            broker.CreateTopic(output + "-stages", partitions);
            if (round % 2 == 0)
            {
                plain.Add(PlainLoop(broker.BootstrapServers, output + "-plain", records, $"plain-{round}"));
                stages.Add(await Stages(broker.BootstrapServers, output + "-stages", records, $"stages-{round}", materializer));
            }
            else
            {
                stages.Add(await Stages(broker.BootstrapServers, output + "-stages", records, $"stages-{round}", materializer));
                plain.Add(PlainLoop(broker.BootstrapServers, output + "-plain", records, $"plain-{round}"));
            }
            Console.WriteLine($"round {round + 1}: plain {plain[^1]:N0} rec/s, stages {stages[^1]:N0} rec/s");
        }

        var plainMedian = Median(plain);
        var stagesMedian = Median(stages);
        return new BenchResult("kafka")
            .Add("plain_records_per_s", "plain Confluent.Kafka loop (median)", plainMedian, "records/s")
            .Add("stages_records_per_s", "Mlops.Stream.Kafka stages (median)", stagesMedian, "records/s")
            .Add("ratio", "stages / plain", stagesMedian / plainMedian, "x")
            .Note("records", records).Note("record_bytes", size).Note("partitions", partitions).Note("rounds", rounds);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static async Task Preload(string bootstrap, string topic, int records, int size)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 10 }).Build();
        var value = new byte[size];
        Random.Shared.NextBytes(value);
        var pending = 0L;
        var failed = 0L;
        for (var i = 0; i < records; i++)
        {
            Interlocked.Increment(ref pending);
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Message<string, byte[]> { Key = $"key-{i}", Value = value }, r =>
                    {
                        if (r.Error.IsError) Interlocked.Increment(ref failed);
                        Interlocked.Decrement(ref pending);
                    });
                    break;
                }
                catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        producer.Flush(TimeSpan.FromMinutes(1));
        if (Interlocked.Read(ref failed) > 0 || Interlocked.Read(ref pending) > 0)
            throw new InvalidOperationException($"preload failed: {failed} failed, {pending} pending");
        await Task.CompletedTask;
    }

    /// <summary>
    /// What a careful user writes by hand: poll, produce asynchronously, and every 1,000 records
    /// commit the highest input offset per partition whose output was acknowledged.
    /// </summary>
    private static double PlainLoop(string bootstrap, string output, int records, string group)
    {
        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false, EnableAutoOffsetStore = false,
        };
        using var consumer = new ConsumerBuilder<string, byte[]>(consumerConfig).Build();
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 5, DeliveryReportFields = "status",
        }).Build();
        var acked = new ConcurrentDictionary<TopicPartition, long>();
        long ackedCount = 0;
        consumer.Subscribe("bench-in");

        var stopwatch = Stopwatch.StartNew();
        var consumed = 0;
        while (Interlocked.Read(ref ackedCount) < records)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null) continue;
            var source = record.TopicPartitionOffset;
            producer.Produce(output, record.Message, report =>
            {
                if (report.Error.IsError) throw new KafkaException(report.Error);
                acked.AddOrUpdate(source.TopicPartition, source.Offset.Value, (_, o) => Math.Max(o, source.Offset.Value));
                Interlocked.Increment(ref ackedCount);
            });
            if (++consumed % 1000 == 0) Commit(consumer, acked);
        }
        Commit(consumer, acked);
        stopwatch.Stop();
        consumer.Close();
        return records / stopwatch.Elapsed.TotalSeconds;
    }

    private static void Commit(IConsumer<string, byte[]> consumer, ConcurrentDictionary<TopicPartition, long> acked)
    {
        if (acked.IsEmpty) return;
        consumer.Commit(acked.Select(a => new TopicPartitionOffset(a.Key, a.Value + 1)));
    }

    private static async Task<double> Stages(string bootstrap, string output, int records, string group, IMaterializer materializer)
    {
        var stopwatch = Stopwatch.StartNew();
        var control = KafkaConsumer.SourceWithOffsetContext(
                ConsumerSettings<string, byte[]>.Create(bootstrap, group), Subscriptions.Topics("bench-in"))
            .Select(record => ProducerMessage.Single(new ProducerRecord<string, byte[]>(output, record.Message.Key, record.Message.Value)))
            .Via(KafkaProducer.FlexiFlowWithContext<string, byte[], CommittableOffset>(ProducerSettings<string, byte[]>.Create(bootstrap)))
            .ToMaterialized(Committer.SinkWithOffsetContext<ProducerResults<string, byte[]>>(CommitterSettings.Default), Keep.Both)
            .MapMaterializedValue(DrainingControl<Done>.Create)
            .Run(materializer);
        while (control.Metrics.Completed < records)
            await Task.Delay(5);
        stopwatch.Stop();
        await control.DrainAndShutdown();
        return records / stopwatch.Elapsed.TotalSeconds;
    }
}
