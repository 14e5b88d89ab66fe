using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Lifecycle;

/// <summary>
/// <see cref="IModelTopicCheck"/> over the topic catalog: templates put the model name between
/// dots, so one model's name can produce another's topic, and Kafka refuses names that differ only
/// in '.' versus '_' (see <see cref="TopicCollisions"/>).
/// </summary>
public sealed class CatalogTopicCheck(TopicCatalog catalog) : IModelTopicCheck
{
    public IReadOnlyList<string> Collisions(string model, IReadOnlyList<string> existing) =>
        TopicCollisions.Find(catalog, existing.Append(model)).Where(c => c.Involves(model)).Select(c => c.ToString()).ToList();
}
