using Akka.Actor;
using Microsoft.Extensions.Logging.Abstractions;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;
using Xunit.Abstractions;
using static Mlops.Stream.Actors.Tests.Drift.DriftEvents;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// The supervisor of the drift jobs: one job per watched model, which creates its topics when the
/// broker lacks them and writes its windows; a model no longer watched has its job drained and
/// stopped; <see cref="StopDrift"/> (the singleton's hand-over message) drains every job and stops.
/// </summary>
public sealed class DriftJobsTests(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output), IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);
    private readonly TempDirectory _folder = new("drift-jobs-");
    private readonly KafkaEndpoint _endpoint = KafkaEndpoint.StartEmbedded();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _endpoint.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task Each_watched_model_gets_one_job_that_creates_its_topics_and_writes_windows_and_stop_drains_them_all()
    {
        const string first = "jobs-a", second = "jobs-b";
        var registry = await RegistryAsync(_folder, first);
        await registry.RegisterVersionAsync(DemoFixture.Model.Registration with { Model = second });
        var watched = new HashSet<string> { first, second };
        // Topics as the job creates them: the served topic with its declared partitions.
        var partitions = TopicCatalog.Default[TopicFamilies.Served].Partitions;
        var kafkaA = new DriftKafka(_endpoint.BootstrapServers, first, partitions);
        var kafkaB = new DriftKafka(_endpoint.BootstrapServers, second, partitions);
        var context = new DriftContext(registry, TopicCatalog.Default, kafkaA.Settings,
            new DriftJobSettings { Windows = new WindowOptions { MaxEvents = 100 } }, DriftMetrics.Detached(), NullLoggerFactory.Instance)
        {
            Endpoint = _endpoint,
        };

        var jobs = Sys.ActorOf(DriftJobs.Props(_ => Task.FromResult<IReadOnlyCollection<string>>([.. watched]), context), "drift-jobs");
        Watch(jobs);
        await Eventually.HoldsAsync(() => TopicsExist(first) && TopicsExist(second), "each job created its model's served and drift topics", Guard);
        await kafkaA.ProduceServedAsync(Enumerable.Range(0, 100).Select(i => Served(first, i, T0)));
        await kafkaB.ProduceServedAsync(Enumerable.Range(0, 100).Select(i => Served(second, i, T0)));
        await Eventually.HoldsAsync(() => kafkaA.Committed().Values.Sum() == 100 && kafkaB.Committed().Values.Sum() == 100,
            "each model's window is written and its events committed", Guard);
        Assert.Equal([(first, 100)], kafkaA.Windows().Select(w => (w.Model, w.Events)));
        Assert.Equal([(second, 100)], kafkaB.Windows().Select(w => (w.Model, w.Events)));

        watched.Remove(second);
        var jobB = await Sys.ActorSelection($"/user/drift-jobs/{second}").ResolveOne(Guard);
        Watch(jobB);
        ExpectTerminated(jobB, Guard);

        jobs.Tell(StopDrift.Instance);
        ExpectTerminated(jobs, Guard);
    }

    private bool TopicsExist(string model)
    {
        var topics = DriftTopics.For(TopicCatalog.Default, model);
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = _endpoint.BootstrapServers }).Build();
        var names = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).ToHashSet();
        return names.Contains(topics.Served) && names.Contains(topics.Drift);
    }
}
