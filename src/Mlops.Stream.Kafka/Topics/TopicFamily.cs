using System.Text.Json;

namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// A family of topics declared in one file under <c>topics/</c>: a name template, with
/// <see cref="ModelPlaceholder"/> for per-model families, and the settings every topic of the family
/// is created with. Loaded and validated by <see cref="TopicCatalog"/>.
/// </summary>
/// <param name="Name">The family name, e.g. <see cref="TopicFamilies.Requests"/>.</param>
/// <param name="NameTemplate">The topic name, with <c>{model}</c> where the model name goes.</param>
/// <param name="Partitions">Partitions to create each topic with.</param>
/// <param name="RetentionMs">Kafka's <c>retention.ms</c>; -1 keeps records forever.</param>
/// <param name="CleanupPolicy">Kafka's <c>cleanup.policy</c>.</param>
public sealed record TopicFamily(string Name, string NameTemplate, int Partitions, long RetentionMs, string CleanupPolicy)
{
    /// <summary>Where the model name goes in <see cref="NameTemplate"/>.</summary>
    public const string ModelPlaceholder = "{model}";

    /// <summary>What the family is for, from the file.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>The JSON schema of record values, from the file (<c>valueSchema</c>).</summary>
    public JsonElement ValueSchema { get; init; }

    /// <summary>True when each model has its own topic of this family.</summary>
    public bool IsPerModel => NameTemplate.Contains(ModelPlaceholder, StringComparison.Ordinal);

    /// <summary>
    /// The topic of this family for <paramref name="model"/>: the model name substituted into the
    /// template for per-model families; the template itself, with <paramref name="model"/> null, otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A per-model family without a model, a model that is not legal in a topic name, or a model
    /// given to a family that is not per model (a sign the caller confused families).
    /// </exception>
    public string TopicFor(string? model)
    {
        if (!IsPerModel)
        {
            if (model is not null)
            {
                throw new ArgumentException(
                    $"Topic family '{Name}' ({NameTemplate}) is shared by all models; pass no model.", nameof(model));
            }
            return NameTemplate;
        }

        if (string.IsNullOrEmpty(model))
        {
            throw new ArgumentException($"Topic family '{Name}' ({NameTemplate}) needs a model name.", nameof(model));
        }
        if (!TopicNames.IsLegalPart(model))
        {
            throw new ArgumentException(
                $"Model name '{model}' cannot be part of a Kafka topic name: use only letters, digits, '.', '_' and '-'.",
                nameof(model));
        }

        var topic = NameTemplate.Replace(ModelPlaceholder, model, StringComparison.Ordinal);
        if (topic.Length > TopicNames.MaxLength)
        {
            throw new ArgumentException(
                $"Model name '{model}' makes topic '{topic}' longer than Kafka's {TopicNames.MaxLength} characters.",
                nameof(model));
        }
        return topic;
    }

    /// <summary>
    /// Whether <paramref name="topic"/> is a topic of this family: the template itself for a shared
    /// family, or the template with a legal model name in place of <see cref="ModelPlaceholder"/>
    /// (then <paramref name="model"/> is that name; null for a shared family).
    /// </summary>
    public bool Matches(string topic, out string? model)
    {
        model = null;
        if (!IsPerModel) return string.Equals(topic, NameTemplate, StringComparison.Ordinal);

        var at = NameTemplate.IndexOf(ModelPlaceholder, StringComparison.Ordinal);
        var prefix = NameTemplate[..at];
        var suffix = NameTemplate[(at + ModelPlaceholder.Length)..];
        if (topic.Length <= prefix.Length + suffix.Length
            || !topic.StartsWith(prefix, StringComparison.Ordinal)
            || !topic.EndsWith(suffix, StringComparison.Ordinal))
            return false;
        var candidate = topic[prefix.Length..^suffix.Length];
        if (!TopicNames.IsLegalPart(candidate)) return false;
        model = candidate;
        return true;
    }

    /// <summary>The topic of this family for <paramref name="model"/>, with the family's settings.</summary>
    public TopicDeclaration Declare(string? model = null) =>
        new(TopicFor(model), Partitions, RetentionMs, CleanupPolicy);
}
