namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// Two owners whose topics cannot both exist: the same name, or names Kafka refuses to hold side by
/// side. <see cref="ModelB"/> always owns a per-model topic; <see cref="ModelA"/> is null when
/// <see cref="TopicA"/> is a shared topic.
/// </summary>
public sealed record TopicCollision(string TopicA, string? ModelA, string TopicB, string ModelB)
{
    public bool Involves(string model) => ModelA == model || ModelB == model;

    public override string ToString() => TopicA == TopicB
        ? $"model '{ModelB}' would use topic '{TopicB}', which is already {(ModelA is null ? "a shared topic" : $"a topic of model '{ModelA}'")}"
        : $"topic '{TopicB}' of model '{ModelB}' and {OwnerA} differ only in '.' versus '_', which Kafka cannot hold side by side";

    private string OwnerA => ModelA is null ? $"the shared topic '{TopicA}'" : $"topic '{TopicA}' of model '{ModelA}'";
}

/// <summary>
/// Finds models whose topics would collide. Templates put the model name between dots
/// (<c>mlops.requests.{model}.v1</c>, <c>mlops.requests.{model}.dlq.v1</c>), so one model's name
/// can produce another model's topic; and Kafka refuses a topic whose name differs from an existing
/// one only in '.' versus '_' (its metric names would be the same), so those collide too.
/// </summary>
public static class TopicCollisions
{
    /// <summary>Every collision among the per-model topics of <paramref name="models"/> and the shared topics.</summary>
    public static IReadOnlyList<TopicCollision> Find(TopicCatalog catalog, IEnumerable<string> models)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var owners = new Dictionary<string, (string Topic, string? Model)>(StringComparer.Ordinal);
        foreach (var shared in catalog.DeclareShared()) owners[KafkaKey(shared.Name)] = (shared.Name, null);

        var collisions = new List<TopicCollision>();
        foreach (var model in models.Distinct(StringComparer.Ordinal))
        {
            foreach (var declaration in catalog.DeclareForModel(model))
            {
                var key = KafkaKey(declaration.Name);
                if (!owners.TryGetValue(key, out var owner)) owners[key] = (declaration.Name, model);
                else if (owner.Model != model) collisions.Add(new TopicCollision(owner.Topic, owner.Model, declaration.Name, model));
            }
        }
        return collisions;
    }

    /// <summary>What Kafka compares when it checks a new topic against existing ones.</summary>
    private static string KafkaKey(string topic) => topic.Replace('.', '_');
}
