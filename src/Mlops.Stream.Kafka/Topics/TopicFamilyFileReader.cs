using System.Text.Json;

namespace Mlops.Stream.Kafka.Topics;

/// <summary>
/// Reads one <c>topics/*.json</c> file into a <see cref="TopicFamily"/>, collecting every problem
/// with the file and the key it concerns instead of stopping at the first, so one run of the service
/// shows an operator everything to fix.
/// </summary>
internal static class TopicFamilyFileReader
{
    private const long MaxRetentionMs = long.MaxValue;

    private static readonly HashSet<string> KnownKeys =
    [
        "family", "description", "nameTemplate", "partitions", "retentionMs", "cleanupPolicy", "key", "headers", "valueSchema",
    ];

    private static readonly HashSet<string> CleanupPolicies = ["delete", "compact", "compact,delete", "delete,compact"];

    /// <summary>Parses <paramref name="path"/>; returns null and adds to <paramref name="problems"/> when it is invalid.</summary>
    internal static TopicFamily? Read(string path, List<string> problems)
    {
        var file = Path.GetFileName(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
        }
        catch (JsonException e)
        {
            problems.Add($"{file}: not valid JSON ({e.Message})");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{file}: the top level must be a JSON object");
                return null;
            }

            var before = problems.Count;
            foreach (var property in root.EnumerateObject())
            {
                if (!KnownKeys.Contains(property.Name))
                {
                    problems.Add($"{file}: unknown key '{property.Name}' (known: {string.Join(", ", KnownKeys)})");
                }
            }

            var name = RequiredString(root, "family", file, problems);
            if (name is not null && !TopicNames.IsLegalPart(name))
            {
                problems.Add($"{file}: 'family' must use only letters, digits, '.', '_' and '-' (found '{name}')");
            }

            var template = RequiredString(root, "nameTemplate", file, problems);
            if (template is not null)
            {
                var sample = template.Replace(TopicFamily.ModelPlaceholder, "m", StringComparison.Ordinal);
                if (!TopicNames.IsLegal(sample))
                {
                    problems.Add(
                        $"{file}: 'nameTemplate' must be a legal Kafka topic name with optional '{TopicFamily.ModelPlaceholder}' (found '{template}')");
                }
            }

            var partitions = RequiredInteger(root, "partitions", file, problems, min: 1, max: int.MaxValue);
            var retention = RequiredInteger(root, "retentionMs", file, problems, min: -1, max: MaxRetentionMs);
            var cleanup = RequiredString(root, "cleanupPolicy", file, problems);
            if (cleanup is not null && !CleanupPolicies.Contains(cleanup))
            {
                problems.Add($"{file}: 'cleanupPolicy' must be one of {string.Join(", ", CleanupPolicies)} (found '{cleanup}')");
            }

            var description = root.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String
                ? d.GetString()!
                : string.Empty;

            JsonElement schema = default;
            if (!root.TryGetProperty("valueSchema", out var s) || s.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{file}: 'valueSchema' is required and must be a JSON schema object");
            }
            else
            {
                // Clone: the document is disposed when this method returns.
                schema = s.Clone();
            }

            if (problems.Count > before) return null;
            return new TopicFamily(name!, template!, (int)partitions!.Value, retention!.Value, cleanup!)
            {
                Description = description,
                ValueSchema = schema,
            };
        }
    }

    private static string? RequiredString(JsonElement root, string key, string file, List<string> problems)
    {
        if (root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String &&
            !string.IsNullOrWhiteSpace(value.GetString()))
        {
            return value.GetString();
        }
        problems.Add($"{file}: '{key}' is required and must be a non-empty string");
        return null;
    }

    private static long? RequiredInteger(JsonElement root, string key, string file, List<string> problems, long min, long max)
    {
        if (root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number &&
            value.TryGetInt64(out var number) && number >= min && number <= max)
        {
            return number;
        }
        var found = root.TryGetProperty(key, out var raw) ? raw.GetRawText() : "nothing";
        problems.Add($"{file}: '{key}' is required and must be an integer from {min} to {max} (found {found})");
        return null;
    }
}
