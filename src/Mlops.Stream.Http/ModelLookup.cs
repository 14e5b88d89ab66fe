using System.Globalization;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http;

/// <summary>
/// The rules for naming a model and version in a v2 call, shared by the HTTP and gRPC edges so both
/// refuse the same calls with the same messages.
/// </summary>
public static class ModelLookup
{
    /// <summary>
    /// Versions are non-negative integers in ASCII digits; null or empty text means "not given"
    /// (the serving side picks). False, with the message, for anything else.
    /// </summary>
    public static bool TryParseVersion(string? text, out int? version, out string? problem)
    {
        version = null;
        problem = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            version = parsed;
            return true;
        }
        problem = $"model version '{text}' is not an integer";
        return false;
    }

    /// <summary>Null when the model is known (and has <paramref name="version"/>, if given); otherwise why not, for a not-found answer.</summary>
    public static string? NotFound(ModelStatus? status, string model, int? version)
    {
        if (status is null)
        {
            return $"model '{model}' is not in the registry";
        }
        if (version is { } wanted && !status.Versions.Contains(wanted))
        {
            var known = status.Versions.Count == 0 ? "none" : string.Join(", ", status.Versions);
            return $"model '{model}' has no version {wanted} (versions: {known})";
        }
        return null;
    }
}
