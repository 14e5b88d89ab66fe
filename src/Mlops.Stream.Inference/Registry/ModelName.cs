namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// The rule for naming a new model. A model's name goes into its Kafka topics between dots
/// (<c>mlops.requests.&lt;model&gt;.v1</c>, <c>mlops.requests.&lt;model&gt;.dlq.v1</c>), so a name with
/// a dot could be another model's topic: <c>fraud-demo.dlq</c> would consume fraud-demo's dead
/// letters. Names are checked when a version is registered; the registry still reads folders of
/// older names, and the node refuses to start if they collide (see <c>TopicCollisions</c>).
/// </summary>
public static class ModelName
{
    /// <summary>Long enough for any sensible name, short enough to leave room for the topic templates in Kafka's 249 characters.</summary>
    public const int MaxLength = 64;

    public const string Rule = "letters, digits, '_' and '-', starting with a letter or digit, at most 64 characters";

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name)
        && name.Length <= MaxLength
        && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>Longest name of a model already in a registry (older nodes allowed more than <see cref="MaxLength"/>).</summary>
    public const int MaxExistingLength = 128;

    /// <summary>
    /// Whether <paramref name="name"/> can name a model already in a registry: the rule for new names,
    /// plus the '.' older nodes allowed. Never a path: no separator, and never starting with '.', so a
    /// name cannot leave the registry folder. Every backend and the admin API check names with it.
    /// </summary>
    public static bool IsValidExisting(string? name) =>
        !string.IsNullOrEmpty(name)
        && name.Length <= MaxExistingLength
        && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>Why <paramref name="name"/> cannot name a model in a registry (so nothing is looked up), or null when it can.</summary>
    public static string? ExistingProblem(string? name) => IsValidExisting(name)
        ? null
        : $"model name '{name}' is not valid: use {Rule}";

    /// <summary>Why <paramref name="name"/> may not name a new model, or null when it may.</summary>
    public static string? Problem(string? name) => IsValid(name)
        ? null
        : $"model name '{name}' is not valid: use {Rule} (no '.': a model's name is part of its Kafka topic names, where a dot could make it another model's topic)";
}
