using System.Net.Sockets;
using Mlops.Stream.Demo;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// <c>dotnet run --project src/Mlops.Stream.Host -- kafka [--port 9092] [--model name ...]</c>: runs
/// only the embedded development broker, on a fixed loopback port, until stopped (Ctrl+C or
/// SIGTERM). Nodes started with <c>--Kafka:BootstrapServers=127.0.0.1:9092</c> then share it, so a
/// loopback cluster can lose any node. The embedded broker cannot create topics for other
/// processes, so this creates the shared topics and those of each <c>--model</c> (default
/// <c>fraud-demo</c>) at start.
/// </summary>
public static class KafkaCommand
{
    public const string Verb = "kafka";
    public const int DefaultPort = 9092;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!TryParse(args, out var port, out var models, out var problem))
        {
            await Console.Error.WriteLineAsync($"mlops-stream kafka: {problem}");
            return 2;
        }

        using var broker = EmbeddedKafka.Start();
        var catalog = TopicCatalog.Default;
        var topics = catalog.DeclareAll(models);
        broker.CreateTopics(topics);

        var mock = broker.BootstrapServers.Split(',')[0];
        var colon = mock.LastIndexOf(':');
        TcpForwarder forwarder;
        try
        {
            forwarder = TcpForwarder.Start(port, mock[..colon], int.Parse(mock[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (SocketException e)
        {
            await Console.Error.WriteLineAsync($"mlops-stream kafka: --port: 127.0.0.1:{port} cannot be bound: {e.Message}");
            return 2;
        }

        await using (forwarder)
        {
            using var stopped = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; stopped.Cancel(); };
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; stopped.Cancel(); });
            Console.WriteLine(
                $"Embedded Kafka listening on 127.0.0.1:{forwarder.Port} (in memory only: its data is lost when it stops). " +
                $"Start nodes with --Kafka:BootstrapServers=127.0.0.1:{forwarder.Port}. Topics: {string.Join(", ", topics.Select(t => t.Name))}. " +
                "Ctrl+C stops it.");
            try
            {
                await Task.Delay(Timeout.Infinite, stopped.Token);
            }
            catch (OperationCanceledException)
            {
                // Stopped on purpose.
            }
        }
        return 0;
    }

    private static bool TryParse(string[] args, out int port, out List<string> models, out string? problem)
    {
        port = DefaultPort;
        models = [];
        problem = null;
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--port" when int.TryParse(value, out var p) && p is >= 0 and <= 65535:
                    port = p;
                    i++;
                    break;
                case "--model" when !string.IsNullOrWhiteSpace(value):
                    models.Add(value);
                    i++;
                    break;
                default:
                    problem = $"unknown or incomplete argument '{args[i]}' (usage: kafka [--port 0-65535] [--model name ...])";
                    return false;
            }
        }
        if (models.Count == 0) models.Add(DemoModelBuilder.DefaultModelName);
        return true;
    }
}
