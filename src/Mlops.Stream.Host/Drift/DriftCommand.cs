using Akka;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Logging;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka;
using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;
using Prometheus;

namespace Mlops.Stream.Host.Drift;

/// <summary>
/// <c>dotnet run --project src/Mlops.Stream.Host -- drift [--model name ...] --Kafka:BootstrapServers=host:port [--Registry:Path=folder] [--Drift:...]</c>:
/// runs only drift jobs, apart from serving, against a broker and a registry the nodes already use:
/// one job per <c>--model</c>, or without one, per model with a production version (followed as it
/// changes). It serves <c>/metrics</c> on <c>Drift:MetricsUrl</c> and stops on Ctrl+C or SIGTERM,
/// after its jobs drained and committed. Run it with <c>--Drift:Enabled=false</c> on the nodes, or
/// both compute each window (in the same group, so each reads part of the served events).
/// </summary>
public static class DriftCommand
{
    public const string Verb = "drift";

    /// <summary>How long stopping waits for the jobs to drain (finish their in-flight records and commit).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(string[] args)
    {
        if (!TryParse(args, out var models, out var configuration, out var problem))
        {
            await Console.Error.WriteLineAsync($"mlops-stream drift: {problem}");
            return ConfigurationErrors.ExitCode;
        }

        return await HostRun.UntilStoppedAsync(configuration, builder => builder.AddMlopsStandaloneDrift(models), app => app.MapMetricsApi());
    }

    /// <summary>
    /// The standalone process: logging, the external broker (never an embedded one: there would be
    /// nothing to read), the registry folder, the drift jobs in a local actor system (no cluster:
    /// the process is the only place they run) and the metrics registry behind <c>/metrics</c>.
    /// </summary>
    internal static WebApplicationBuilder AddMlopsStandaloneDrift(this WebApplicationBuilder builder, IReadOnlyCollection<string> models)
    {
        builder.AddMlopsLogging();
        var kafka = builder.Configuration.BindValidatedNow<KafkaOptions, KafkaOptionsValidator>(KafkaOptions.Section);
        if (kafka.IsEmbedded)
        {
            throw new ConfigurationException($"{KafkaOptions.Section}:{nameof(KafkaOptions.BootstrapServers)}",
                "the drift verb reads the served events of an existing broker: give the address the nodes use (it never starts an embedded one)");
        }

        var drift = builder.Configuration.BindValidatedNow<DriftJobOptions, DriftJobOptionsValidator>(DriftJobOptions.Section);
        builder.Configuration.BindValidatedNow<RegistryOptions, RegistryOptionsValidator>(RegistryOptions.Section);
        if (string.IsNullOrWhiteSpace(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(drift.MetricsUrl);
        }

        var services = builder.Services;
        services.AddValidatedOptions<KafkaOptions, KafkaOptionsValidator>(KafkaOptions.Section);
        services.AddValidatedOptions<RegistryOptions, RegistryOptionsValidator>(RegistryOptions.Section);
        services.AddSingleton(_ => TopicCatalog.Default);
        services.AddSingleton(_ => KafkaEndpoint.External(kafka.BootstrapServers, kafka.ClientProperties));
        services.AddSingleton(sp => new KafkaHealthMonitor(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mlops.Stream.Kafka.Health")));
        services.AddSingleton<IModelRegistry>(sp => new FolderModelRegistry(
            sp.GetRequiredService<IOptions<RegistryOptions>>().Value.FullPath, sp.GetRequiredService<ILogger<FolderModelRegistry>>()));
        services.AddSingleton(_ =>
        {
            var registry = Prometheus.Metrics.NewCustomRegistry();
            DotNetStats.Register(registry);
            return registry;
        });
        builder.AddMlopsDrift();
        services.AddAkka("mlops-drift", (akka, sp) => akka
            .WithLogBridge(sp)
            .WithActors((system, _, resolver) =>
            {
                var registry = resolver.GetService<IModelRegistry>();
                var jobs = system.ActorOf(DriftJobs.Props(ModelsToWatch(models, registry), resolver.GetService<DriftContext>()), DriftHostingExtensions.SingletonName);
                // The jobs drain (finish and commit what they can) before the actor system stops.
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "drain-drift-jobs", async () =>
                {
                    await jobs.GracefulStop(DrainTimeout, StopDrift.Instance);
                    return Done.Instance;
                });
            }));
        return builder;
    }

    /// <summary>The models named on the command line, or else every model with a production version, looked up at each refresh.</summary>
    private static Func<CancellationToken, Task<IReadOnlyCollection<string>>> ModelsToWatch(IReadOnlyCollection<string> named, IModelRegistry registry)
    {
        if (named.Count > 0) return _ => Task.FromResult(named);
        var served = new ServedModels(registry);
        return async ct => [.. (await served.RefreshAsync(ct)).Keys];
    }

    /// <summary>Takes the verb's own <c>--model name</c> pairs; every other argument is configuration (<c>--Key=value</c>).</summary>
    private static bool TryParse(string[] args, out List<string> models, out string[] configuration, out string? problem)
    {
        models = [];
        problem = null;
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] != "--model")
            {
                rest.Add(args[i]);
                continue;
            }

            var value = i + 1 < args.Length ? args[i + 1] : null;
            if (value is null || !ModelName.IsValid(value))
            {
                problem = $"--model needs a model name (letters, digits, _ and -) (usage: drift [--model name ...] --Kafka:BootstrapServers=host:port [--Registry:Path=folder])";
                configuration = [];
                return false;
            }

            models.Add(value);
            i++;
        }

        configuration = [.. rest];
        return true;
    }
}
