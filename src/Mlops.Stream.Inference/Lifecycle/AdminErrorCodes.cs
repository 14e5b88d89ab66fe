namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>
/// Why an admin change was refused, as the stable <c>code</c> of the admin API's error body. A
/// contract like the other wire codes: never rename one.
/// </summary>
public static class AdminErrorCodes
{
    /// <summary>The change contradicts the model's state (rollback with nothing to roll back to, a canary of the production version...).</summary>
    public const string Conflict = "conflict";

    /// <summary>The version's inputs or outputs differ from the production version's (promote without force, canary), or from its own manifest.</summary>
    public const string SignatureMismatch = "signature_mismatch";

    /// <summary>The version's model file does not have the sha256 its manifest records.</summary>
    public const string ChecksumMismatch = "checksum_mismatch";

    /// <summary>The version cannot be read or loaded (manifest unreadable, model file missing or not ONNX).</summary>
    public const string VersionInvalid = "version_invalid";

    /// <summary>A new model's Kafka topics would be another model's, or too alike for Kafka.</summary>
    public const string TopicCollision = "topic_collision";

    /// <summary>An uploaded model or an argument is not acceptable (does not load, weight out of range...).</summary>
    public const string InvalidModel = "invalid_model";

    /// <summary>A reference sample cannot be read, does not fit the model's inputs, or a baseline window gives none.</summary>
    public const string InvalidReference = "invalid_reference";

    /// <summary>The model name breaks the rule of <see cref="Registry.ModelName"/>.</summary>
    public const string InvalidModelName = "invalid_model_name";

    /// <summary>A replica count out of range (see <see cref="Registry.ModelScale"/>).</summary>
    public const string InvalidScale = "invalid_scale";
}
