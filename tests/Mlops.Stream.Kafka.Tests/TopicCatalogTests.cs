using System.Text.Json;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Kafka.Tests;

public sealed class TopicCatalogTests : IDisposable
{
    private readonly TempDirectory _folder = new("topics-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_default_catalog_ships_every_well_known_family_next_to_the_program()
    {
        var catalog = TopicCatalog.Default;

        Assert.Equal(TopicFamilies.All.Order(), catalog.Families.Select(f => f.Name));
        Assert.Equal("mlops.requests.iris.v1", catalog[TopicFamilies.Requests].TopicFor("iris"));
        Assert.Equal("mlops.predictions.iris.v1", catalog[TopicFamilies.Predictions].TopicFor("iris"));
        Assert.Equal("mlops.served.iris.v1", catalog[TopicFamilies.Served].TopicFor("iris"));
        Assert.Equal("mlops.requests.iris.dlq.v1", catalog[TopicFamilies.DeadLetters].TopicFor("iris"));
        Assert.Equal("mlops.drift.iris.v1", catalog[TopicFamilies.Drift].TopicFor("iris"));
        Assert.Equal("mlops.feedback.iris.v1", catalog[TopicFamilies.Feedback].TopicFor("iris"));
        Assert.Equal("mlops.audit.v1", catalog[TopicFamilies.Audit].TopicFor(null));
        // The drift topic keeps one order per model (its latest windows are its last records); the others spread load.
        Assert.All(catalog.Families.Where(f => f.IsPerModel && f.Name != TopicFamilies.Drift), f => Assert.Equal(8, f.Partitions));
        Assert.Equal(1, catalog[TopicFamilies.Drift].Partitions);
        Assert.Equal(1, catalog[TopicFamilies.Audit].Partitions);
        Assert.All(catalog.Families, f => Assert.Equal(JsonValueKind.Object, f.ValueSchema.ValueKind));
    }

    [Fact]
    public void A_model_gets_one_topic_per_per_model_family_and_the_audit_topic_is_shared()
    {
        var catalog = TopicCatalog.Default;

        var forModel = catalog.DeclareForModel("fraud-v2");
        Assert.Equal(
            ["mlops.drift.fraud-v2.v1", "mlops.feedback.fraud-v2.v1", "mlops.predictions.fraud-v2.v1", "mlops.requests.fraud-v2.dlq.v1", "mlops.requests.fraud-v2.v1", "mlops.served.fraud-v2.v1"],
            forModel.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(forModel, t => Assert.Contains(".fraud-v2.", t.Name));
        Assert.Equal(["mlops.audit.v1"], catalog.DeclareShared().Select(t => t.Name));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/model")]
    public void A_per_model_family_rejects_a_missing_or_illegal_model_name(string? model)
    {
        var requests = TopicCatalog.Default[TopicFamilies.Requests];

        Assert.Throws<ArgumentException>(() => requests.TopicFor(model));
    }

    [Fact]
    public void The_shared_audit_family_rejects_a_model_name()
    {
        var error = Assert.Throws<ArgumentException>(() => TopicCatalog.Default[TopicFamilies.Audit].TopicFor("iris"));
        Assert.Contains("audit", error.Message);
    }

    [Fact]
    public void An_unknown_family_lists_the_known_ones()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => TopicCatalog.Default["nope"]);
        Assert.Contains("requests", error.Message);
    }

    [Fact]
    public void Every_problem_in_every_file_is_reported_with_its_file_and_key()
    {
        Write("bad.json", """{ "family": "bad", "nameTemplate": "mlops bad", "partitions": 0, "retentionMs": 1, "cleanupPolicy": "sometimes", "valueSchema": {}, "partiton": 3 }""");
        Write("broken.json", "{ not json");

        var error = Assert.Throws<InvalidDataException>(() => TopicCatalog.Load(_folder.Path));

        Assert.Contains("bad.json: 'nameTemplate'", error.Message);
        Assert.Contains("bad.json: 'partitions'", error.Message);
        Assert.Contains("bad.json: 'cleanupPolicy'", error.Message);
        Assert.Contains("bad.json: unknown key 'partiton'", error.Message);
        Assert.Contains("broken.json: not valid JSON", error.Message);
    }

    [Fact]
    public void Two_files_declaring_the_same_family_are_rejected()
    {
        Write("a.json", Family("same", "topic.a"));
        Write("b.json", Family("same", "topic.b"));

        var error = Assert.Throws<InvalidDataException>(() => TopicCatalog.Load(_folder.Path));
        Assert.Contains("share the family name 'same'", error.Message);
    }

    [Fact]
    public void A_catalog_without_a_required_family_names_it()
    {
        Write("a.json", Family("only", "topic.only"));
        var catalog = TopicCatalog.Load(_folder.Path);

        var error = Assert.Throws<InvalidDataException>(() => catalog.Require(TopicFamilies.All));
        Assert.Contains("requests", error.Message);
    }

    [Fact]
    public void A_missing_folder_is_a_clear_error()
    {
        var missing = Path.Combine(_folder.Path, "absent");

        var error = Assert.Throws<InvalidDataException>(() => TopicCatalog.Load(missing));
        Assert.Contains(missing, error.Message);
    }

    private void Write(string file, string json) => File.WriteAllText(Path.Combine(_folder.Path, file), json);

    private static string Family(string name, string template) =>
        $$"""{ "family": "{{name}}", "nameTemplate": "{{template}}", "partitions": 1, "retentionMs": -1, "cleanupPolicy": "delete", "valueSchema": { "type": "object" } }""";
}
