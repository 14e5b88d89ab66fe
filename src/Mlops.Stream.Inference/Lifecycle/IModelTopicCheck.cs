namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>
/// Whether a new model's Kafka topics would collide with those of the models already registered.
/// The engine knows no topic naming; the Kafka side implements this from its topic catalog.
/// </summary>
public interface IModelTopicCheck
{
    /// <returns>What <paramref name="model"/>'s topics would collide with beside <paramref name="existing"/>, one line each; empty when nothing.</returns>
    IReadOnlyList<string> Collisions(string model, IReadOnlyList<string> existing);
}
