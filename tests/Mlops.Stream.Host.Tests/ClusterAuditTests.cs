using System.Net.Http.Json;
using System.Text.Json;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// Issue 10: <c>GET /api/v1/audit</c> (and so <c>mlops audit</c>) shows the cluster's changes, read
/// from the audit topic every node writes, not only the changes made through the node asked.
/// </summary>
public sealed class ClusterAuditTests
{
    [Fact]
    public async Task A_change_made_through_one_node_is_in_the_audit_of_another_node_on_the_same_kafka()
    {
        using var broker = EmbeddedKafka.Start();
        // The embedded broker cannot create topics for clients outside its process: create them here.
        broker.CreateTopics(TopicCatalog.Default.DeclareAll(["fraud-demo"]));
        await using var changed = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}");
        await using var asked = await TestNode.StartAsync($"--Kafka:BootstrapServers={broker.BootstrapServers}");
        (await changed.WaitForOkAsync("/v2/models/fraud-demo/ready")).Dispose();

        using (var undeploy = await changed.Http.PostAsync("/api/v1/models/fraud-demo/undeploy", null))
            undeploy.EnsureSuccessStatusCode();

        var audit = await Eventually.ReadsAsync(async () =>
        {
            using var response = await asked.Http.GetAsync("/api/v1/audit");
            response.EnsureSuccessStatusCode();
            Assert.Equal("cluster", response.Headers.GetValues("Mlops-Audit-Source").Single());
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }, events => events.EnumerateArray().Any(IsTheUndeploy), "the other node's audit shows the undeploy", TimeSpan.FromSeconds(60),
            events => events.GetRawText());

        Assert.Single(audit.EnumerateArray(), IsTheUndeploy);
    }

    private static bool IsTheUndeploy(JsonElement e) =>
        e.GetProperty("action").GetString() == "undeploy" && e.GetProperty("model").GetString() == "fraud-demo";
}
