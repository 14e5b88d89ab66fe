using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>
/// Checks a name before a version is stored under it: it follows <see cref="ModelName"/>'s rule and,
/// for a new model, none of its Kafka topics would be an existing model's or differ from one only
/// in '.' versus '_' (see <see cref="IModelTopicCheck"/>). The rule alone cannot see the second case
/// (<c>fraud-demo_dlq</c> beside <c>fraud-demo</c>), and the topic templates may change.
/// </summary>
internal sealed class ModelNameGate(IModelRegistry registry, IModelTopicCheck? topics)
{
    /// <returns>Why <paramref name="model"/> may not take a version, or null when it may.</returns>
    public async Task<AdminResult?> CheckAsync(string model, CancellationToken cancellationToken)
    {
        if (ModelName.Problem(model) is { } problem) return new AdminResult.Invalid(problem, AdminErrorCodes.InvalidModelName);
        var existing = await registry.ListModelsAsync(cancellationToken).ConfigureAwait(false);
        if (existing.Contains(model) || topics is null) return null;
        var collisions = topics.Collisions(model, existing);
        return collisions.Count == 0
            ? null
            : new AdminResult.Conflict($"Model name '{model}' cannot be used: {string.Join("; ", collisions)}.", AdminErrorCodes.TopicCollision);
    }
}
