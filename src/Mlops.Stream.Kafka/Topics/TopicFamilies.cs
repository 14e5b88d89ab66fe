namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// The family names the code depends on, in one place. Each is the <c>family</c> field of a file in
/// <c>topics/</c>; <see cref="TopicCatalog.Default"/> refuses to load when one of them is missing.
/// </summary>
public static class TopicFamilies
{
    /// <summary>Inference requests per model: <c>mlops.requests.{model}.v1</c>.</summary>
    public const string Requests = "requests";

    /// <summary>Inference responses per model: <c>mlops.predictions.{model}.v1</c>.</summary>
    public const string Predictions = "predictions";

    /// <summary>Served events (inputs, outputs, version, timings) per model: <c>mlops.served.{model}.v1</c>.</summary>
    public const string Served = "served";

    /// <summary>Dead-lettered requests per model, original bytes: <c>mlops.requests.{model}.dlq.v1</c>.</summary>
    public const string DeadLetters = "dlq";

    /// <summary>Drift results, one record per closed window of served events, per model: <c>mlops.drift.{model}.v1</c>.</summary>
    public const string Drift = "drift";

    /// <summary>Ground-truth labels of served requests, by request id, per model: <c>mlops.feedback.{model}.v1</c>.</summary>
    public const string Feedback = "feedback";

    /// <summary>Operator and supervisor actions, all models: <c>mlops.audit.v1</c>.</summary>
    public const string Audit = "audit";

    /// <summary>Every family above.</summary>
    public static IReadOnlyList<string> All { get; } = [Requests, Predictions, Served, DeadLetters, Drift, Feedback, Audit];
}
