using System.Diagnostics;
using Akka.Actor;
using Akka.Streams;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;
using Mlops.Stream.Bench.Scenarios.Pipeline;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// What exactly-once costs: one replica's Kafka path (the real <see cref="ServingPipeline"/> over the
/// demo model, in process) drains the same size of backlog at-least-once and exactly-once, in
/// alternating rounds on fresh topics of one embedded broker, after an unmeasured warm-up of each.
/// Rate = requests completed (at-least-once: acknowledged; exactly-once: their transaction committed)
/// per second from the first completion to the last, so the group join is in neither. The embedded
/// broker runs transactions with their round trips (it only keeps no transactional offsets, which
/// a drain does not need), so the ratio is the transactions' cost on this machine.
/// </summary>
public static class DeliveryCost
{
    private const string Model = "delivery";
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(3);

    public sealed record Result(IReadOnlyList<double> AtLeastOnceRps, IReadOnlyList<double> ExactlyOnceRps)
    {
        public double AtLeastOnceMedian => HttpComparison.Median(AtLeastOnceRps);
        public double ExactlyOnceMedian => HttpComparison.Median(ExactlyOnceRps);
        public double Ratio => ExactlyOnceMedian / AtLeastOnceMedian;
    }

    public static async Task<Result> RunAsync(int requests, int rounds, Action<string> log)
    {
        using var broker = EmbeddedKafka.Start();
        using var system = ActorSystem.Create("bench-delivery", "akka.loglevel = WARNING");
        var materializer = system.Materializer();
        var demo = DemoModelBuilder.Build(Model);
        using var model = OnnxModel.Load(Model, 1, demo.OnnxModel, warmUpRequest: demo.SampleRequest);
        await using var batcher = new DynamicBatcher(model, new BatchingSettings());
        var inference = new ReplicaInference(Model, new ReplicaRouter(batcher), new VersionStatistics(), ServingMetrics.Detached());

        var atLeastOnce = new List<double>();
        var exactlyOnce = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            foreach (var delivery in new[] { KafkaDelivery.AtLeastOnce, KafkaDelivery.ExactlyOnce })
            {
                var rate = await DrainAsync(broker, materializer, inference, delivery, $"r{round}-{delivery}", requests);
                if (round == 0) continue;   // warm-up: JIT, ONNX Runtime, the broker's first topics
                (delivery == KafkaDelivery.AtLeastOnce ? atLeastOnce : exactlyOnce).Add(rate);
                log($"round {round}: {delivery,-12} {rate,10:N0} requests/s");
            }
        }
        return new Result(atLeastOnce, exactlyOnce);
    }

    private static async Task<double> DrainAsync(EmbeddedKafka broker, IMaterializer materializer, ReplicaInference inference,
        KafkaDelivery delivery, string run, int requests)
    {
        // Fresh topics per run: the catalog's names with a run suffix, so no run reads another's records.
        var topics = new ModelTopics($"{run}.requests", $"{run}.predictions", $"{run}.served", $"{run}.dlq");
        var partitions = TopicCatalog.Default[TopicFamilies.Requests].Partitions;
        foreach (var topic in new[] { topics.Requests, topics.Predictions, topics.Served, topics.DeadLetters })
            broker.CreateTopic(topic, partitions);
        RequestBacklog.Produce(broker.BootstrapServers, topics.Requests, run, requests);

        var settings = new ServingKafkaSettings(broker.BootstrapServers, new KafkaHealthMonitor(),
            new Dictionary<string, string> { ["fetch.wait.max.ms"] = "5" }, new Dictionary<string, string>(), InFlight: 256, delivery);
        var control = new ServingPipeline(inference, topics, replica: $"{Model}#{run}").Run(settings, materializer);
        try
        {
            var deadline = Stopwatch.StartNew();
            long firstCompleted = 0;
            var clock = new Stopwatch();
            while (control.Metrics.Completed < requests)
            {
                if (control.StreamCompletion.IsCompleted) throw new InvalidOperationException($"{run}: the stream ended: {control.StreamCompletion.Exception?.GetBaseException().Message}");
                if (deadline.Elapsed > DrainTimeout) throw new TimeoutException($"{run}: {control.Metrics.Completed} of {requests} completed within {DrainTimeout}");
                if (!clock.IsRunning && control.Metrics.Completed > 0)
                {
                    firstCompleted = control.Metrics.Completed;
                    clock.Start();
                }
                await Task.Delay(2);
            }
            return (requests - firstCompleted) / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            await control.DrainAndShutdown();
        }
    }
}
