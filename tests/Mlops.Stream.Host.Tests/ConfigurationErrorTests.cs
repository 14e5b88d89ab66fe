using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Mlops.Stream.Host.Tests.Infrastructure;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// A setting the node cannot run with stops the real program before it serves anything: one line on
/// stderr, <c>mlops-stream: configuration error: &lt;key&gt;: &lt;problem&gt;</c>, and exit code 2,
/// never a stack trace (which would exit 134) and never a node listening somewhere it was not asked to.
/// </summary>
public sealed class ConfigurationErrorTests
{
    [Theory]
    [InlineData("Akka:Port", "--Akka:Port=70000")]
    [InlineData("Akka:Port", "--Akka:Port=abc")]
    [InlineData("Http:Url", "--Http:Url=http://127.0.0.1:99999")]
    [InlineData("Grpc:Url", "--Grpc:Url=http://127.0.0.1:99999")]
    [InlineData("Grpc:Url", "--Grpc:Url=http://grpc.example:8081")]
    [InlineData("Grpc:Url", "--Grpc:Url=https://127.0.0.1:0")]
    [InlineData("Http:Url", "--Http:Url=https://127.0.0.1:0")]
    [InlineData("Tls:CertificatePath", "--Tls:CertificatePath=/no/such/node.crt")]
    [InlineData("Inference:KafkaInFlight", "--Inference:KafkaInFlight=abc")]
    [InlineData("Inference:ModelMemoryBudget", "--Inference:ModelMemoryBudget=lots")]
    [InlineData("Inference:ModelMemoryBudget", "--Inference:ModelMemoryBudget=-2GiB")]
    [InlineData("Inference:MaxLoadedModels", "--Inference:MaxLoadedModels=0")]
    [InlineData("Inference:KafkaBacklogCheck", "--Inference:KafkaBacklogCheck=00:00:00")]
    [InlineData("Http:Limits:KeepAliveTimeout", "--Http:Limits:KeepAliveTimeout=soon")]
    [InlineData("Security:InferKeys:0", "--Security:InferKeys:0=tooshort")]
    [InlineData("Registry:Kind", "--Registry:Kind=mlfow")]
    [InlineData("Registry:Mlflow:TrackingUri", "--Registry:Kind=mlflow")]
    [InlineData("Kafka:Delivery", "--Kafka:Delivery=exactly-twice")]
    [InlineData("Kafka:Delivery", "--Kafka:Delivery=exactly-once")]   // the embedded broker cannot give exactly-once
    public async Task A_bad_setting_stops_the_node_with_one_line_naming_the_key_and_exit_code_2(string key, string argument)
    {
        var line = await ConfigurationErrorAsync(argument);

        AssertNames(key, line);
        Assert.DoesNotContain("tooshort", line);   // a key's value never reaches the output, even a wrong one
    }

    [Theory]
    [InlineData("http://127.0.0.1:abc")]   // Kestrel read '127.0.0.1:abc' as a host name and listened on http://[::]:80
    [InlineData("http://127.0.0.l:8080")]  // a host name, so Kestrel would listen on every interface
    [InlineData("http://localhost:8080/api")]
    public async Task A_listen_address_kestrel_would_not_bind_as_written_stops_the_node_instead_of_exposing_it(string urls)
    {
        var line = await ConfigurationErrorAsync("--urls", urls);

        AssertNames("urls", line);
        Assert.Contains(urls, line);
    }

    [Fact]
    public async Task A_registry_path_that_is_a_file_stops_the_node()
    {
        var file = Path.GetTempFileName();
        try
        {
            var line = await ConfigurationErrorAsync($"--Registry:Path={file}");

            AssertNames("Registry:Path", line);
            Assert.Contains("is a file", line);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_http_port_in_use_stops_the_node()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var line = await ConfigurationErrorAsync($"--Http:Url=http://127.0.0.1:{port}");

        AssertNames("Http:Url", line);
        Assert.Contains($"{port}", line);
    }

    [Fact]
    public async Task A_grpc_port_in_use_stops_the_node_naming_the_grpc_key()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var line = await ConfigurationErrorAsync($"--Grpc:Url=http://127.0.0.1:{port}");

        AssertNames("Grpc:Url", line);
        Assert.Contains($"{port}", line);
    }

    [Fact]
    public async Task A_second_node_on_the_akka_port_of_a_running_node_stops_instead_of_claiming_the_same_address()
    {
        await using var first = await TestNode.StartAsync();
        var port = Akka.Cluster.Cluster.Get(first.ActorSystem).SelfAddress.Port!.Value;

        var line = await ConfigurationErrorAsync($"--Akka:Port={port}");

        AssertNames("Akka:Port", line);
        Assert.Contains($"127.0.0.1:{port} is already in use", line);
    }

    /// <summary>Starts the program as a test node would be started, plus <paramref name="arguments"/>; returns its one stderr line after checking exit code 2.</summary>
    private static async Task<string> ConfigurationErrorAsync(params string[] arguments)
    {
        // The "Now listening on" line, so a node that starts after all is caught at once, not after a timeout.
        using var host = HostProcess.Start(TestNode.Arguments(["--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", .. arguments]));

        var exitCode = await host.ExitCodeWithoutServingAsync();

        Assert.True(exitCode == 2, $"exit code {exitCode}; output:{Environment.NewLine}{host.Output}");
        return Assert.Single(host.Stderr);
    }

    private static void AssertNames(string key, string line) =>
        Assert.Matches($"^mlops-stream: configuration error: {Regex.Escape(key)}: .+", line);
}
