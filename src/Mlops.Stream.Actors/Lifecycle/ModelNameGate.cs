using Mlops.Stream.Actors.Registry;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Lifecycle;

/// <summary>
/// Checks a name before a version is stored under it: it follows <see cref="ModelName"/>'s rule and,
/// for a new model, none of its Kafka topics would be an existing model's or differ from one only
/// in '.' versus '_' (see <see cref="TopicCollisions"/>). The rule alone cannot see the second case
/// (<c>fraud-demo_dlq</c> beside <c>fraud-demo</c>), and the topic templates may change.
/// </summary>
internal sealed class ModelNameGate(IModelRegistry registry, TopicCatalog topics)
{
    /// <returns>Why <paramref name="model"/> may not take a version, or null when it may.</returns>
    public async Task<AdminResult?> CheckAsync(string model, CancellationToken cancellationToken)
    {
        if (ModelName.Problem(model) is { } problem) return new AdminResult.Invalid(problem, AdminErrorCodes.InvalidModelName);
        var existing = await registry.ListModelsAsync(cancellationToken).ConfigureAwait(false);
        if (existing.Contains(model)) return null;
        var collisions = TopicCollisions.Find(topics, existing.Append(model)).Where(c => c.Involves(model)).ToList();
        return collisions.Count == 0
            ? null
            : new AdminResult.Conflict($"Model name '{model}' cannot be used: {string.Join("; ", collisions)}.", AdminErrorCodes.TopicCollision);
    }
}
