using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Mlops.Stream.Drift.Feedback;

/// <summary>
/// Reads a record of <c>mlops.feedback.&lt;model&gt;.v1</c>: <c>{"id": "&lt;request id&gt;", "label": L}</c>
/// where L is a class index (0, 1, ...), a class name ("fraud"), true/false, or an array of those,
/// one per row, for a request that carried several rows. Returns a typed failure instead of
/// throwing: one bad record must never stop the drift job.
/// </summary>
public static class FeedbackReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 8 };

    public static bool TryRead(
        ReadOnlySpan<byte> utf8Json,
        int partition,
        long offset,
        [NotNullWhen(true)] out FeedbackLabel? label,
        [NotNullWhen(false)] out FeedbackFailure? failure)
    {
        label = null;
        failure = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                failure = new FeedbackFailure(FeedbackFailureReason.Unreadable, $"expected a JSON object, got {root.ValueKind}", partition, offset);
                return false;
            }

            if (!root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } requestId)
            {
                failure = new FeedbackFailure(FeedbackFailureReason.MissingId, "'id' is missing or not a non-empty string", partition, offset);
                return false;
            }

            if (!root.TryGetProperty("label", out var value) || !TryLabels(value, out var labels))
            {
                failure = new FeedbackFailure(FeedbackFailureReason.BadLabel,
                    $"request {requestId}: 'label' must be a class index, a class name, true/false or an array of them (found {(root.TryGetProperty("label", out var l) ? l.GetRawText() : "none")})",
                    partition, offset);
                return false;
            }

            label = new FeedbackLabel(requestId, labels, partition, offset);
            return true;
        }
        catch (JsonException e)
        {
            failure = new FeedbackFailure(FeedbackFailureReason.Unreadable, $"not JSON: {e.Message}", partition, offset);
            return false;
        }
    }

    private static bool TryLabels(JsonElement value, out ImmutableArray<LabelValue> labels)
    {
        labels = default;
        if (value.ValueKind != JsonValueKind.Array)
        {
            if (!TryLabel(value, out var single)) return false;
            labels = [single];
            return true;
        }

        var builder = ImmutableArray.CreateBuilder<LabelValue>(value.GetArrayLength());
        foreach (var element in value.EnumerateArray())
        {
            if (!TryLabel(element, out var one)) return false;
            builder.Add(one);
        }

        labels = builder.MoveToImmutable();
        return labels.Length > 0;
    }

    private static bool TryLabel(JsonElement value, out LabelValue label)
    {
        label = default;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetInt32(out var index) && index >= 0:
                label = new LabelValue(index, null);
                return true;
            case JsonValueKind.True or JsonValueKind.False:
                label = new LabelValue(value.ValueKind == JsonValueKind.True ? 1 : 0, null);
                return true;
            case JsonValueKind.String when value.GetString() is { Length: > 0 } name:
                label = new LabelValue(null, name);
                return true;
            default:
                return false;
        }
    }
}
