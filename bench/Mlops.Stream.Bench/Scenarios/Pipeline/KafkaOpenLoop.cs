using System.Diagnostics;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Bench.Cluster;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Kafka latency at a fixed offered load: requests written at their intended times (ids
/// <c>&lt;run&gt;-&lt;n&gt;</c>), and each request's latency from its intended time until the
/// bench reads its prediction back (as a consumer of the prediction topic would).
/// </summary>
public static class KafkaOpenLoop
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(60);

    public static async Task<OpenLoopResult> RunAsync(LocalCluster cluster, string run, double fraction, double rate, TimeSpan duration)
    {
        var bootstrap = cluster.Broker.BootstrapServers;
        var schedule = new OpenLoopSchedule(rate, duration);
        var due = new long[schedule.Total];
        var seen = new bool[schedule.Total];
        var latency = new LatencySample();
        var answered = 0L;
        var prefix = run + "-";
        // A first request, answered before the clock starts: producer and reader are connected and the reader is positioned.
        var handshakeId = prefix + "ready";
        using var ready = new ManualResetEventSlim();

        // The reader starts at the prediction topic's current end, before the first request is sent.
        using var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-{run}", EnableAutoCommit = false, FetchWaitMaxMs = 5,
        }).Build();
        var partitions = NodeDrain.PartitionsOf(cluster.Topics.Predictions);
        using (var offsets = new KafkaOffsets(bootstrap, $"bench-{run}"))
        {
            var ends = offsets.EndOffsets(cluster.Topics.Predictions, partitions);
            reader.Assign(ends.Select((end, p) => new TopicPartitionOffset(cluster.Topics.Predictions, p, end)));
        }
        using var stop = new CancellationTokenSource();
        var reading = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (reader.Consume(TimeSpan.FromMilliseconds(50)) is not { Message: { } message }) continue;
                var now = Stopwatch.GetTimestamp();
                if (ServingHeaders.Read(message.Headers, ServingHeaders.RequestId) is not { } id || !id.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (id == handshakeId)
                {
                    ready.Set();
                    continue;
                }
                var index = long.Parse(id.AsSpan(prefix.Length));
                if (seen[index]) continue;
                seen[index] = true;
                latency.Add(Stopwatch.GetElapsedTime(Volatile.Read(ref due[index]), now).TotalMilliseconds);
                Interlocked.Increment(ref answered);
            }
        }, TaskCreationOptions.LongRunning);

        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 1 }).Build();
        DemoRequests.ProduceWhenRoom(producer, cluster.Topics.Requests, DemoRequests.Record(handshakeId));
        producer.Flush(TimeSpan.FromSeconds(30));
        if (!ready.Wait(AnswerTimeout)) throw new TimeoutException($"{run}: no prediction for the first request within {AnswerTimeout}");

        var failed = 0;
        var sendSeconds = await Task.Factory.StartNew(() => schedule.Run((i, at) =>
        {
            Volatile.Write(ref due[i], at);
            DemoRequests.ProduceWhenRoom(producer, cluster.Topics.Requests, DemoRequests.Record($"{prefix}{i}"),
                report => { if (report.Error.IsError) Interlocked.Increment(ref failed); });
        }), TaskCreationOptions.LongRunning);
        producer.Flush(TimeSpan.FromSeconds(30));

        var deadline = DateTime.UtcNow + AnswerTimeout;
        while (Interlocked.Read(ref answered) < schedule.Total - failed && DateTime.UtcNow < deadline) await Task.Delay(20);
        await stop.CancelAsync();
        await reading;
        reader.Close();
        return new OpenLoopResult("Kafka", fraction, rate, schedule.Total - failed, Interlocked.Read(ref answered), sendSeconds, latency);
    }
}
