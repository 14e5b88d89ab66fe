using System.Text;
using System.Text.Json;

namespace Mlops.Stream.Inference.Wire.Internal;

/// <summary>Small helpers shared by the request, response and tensor readers.</summary>
internal static class JsonReading
{
    /// <summary>
    /// Advances the reader. A complete body never ends inside a value, so running out of tokens
    /// means truncated JSON, which is reported as invalid_json rather than an InvalidOperationException.
    /// </summary>
    public static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new InferenceRequestException(InferenceErrorCode.InvalidJson, "the JSON body ends unexpectedly");
        }
    }

    /// <summary>Skips the value the reader is positioned on (its children too).</summary>
    public static void SkipValue(ref Utf8JsonReader reader)
    {
        // TrySkip rather than Skip: Skip refuses readers over partial buffers, which is how
        // System.Text.Json hands data to converters, although it guarantees the value is complete.
        if (!reader.TrySkip())
        {
            throw new InferenceRequestException(InferenceErrorCode.InvalidJson, "the JSON body ends unexpectedly");
        }
    }

    public static string ReadString(ref Utf8JsonReader reader, string what)
    {
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Invalid($"{what} must be a string, found {Describe(ref reader)}");
        }

        return reader.GetString()!;
    }

    /// <summary>Reads a v2 "parameters" object into detached JsonElements (they outlive the body buffer).</summary>
    public static Dictionary<string, JsonElement> ReadParameters(ref Utf8JsonReader reader, string where)
    {
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid($"{where}: \"parameters\" must be a JSON object, found {Describe(ref reader)}");
        }

        using var document = JsonDocument.ParseValue(ref reader);
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            parameters[property.Name] = property.Value.Clone();
        }

        return parameters;
    }

    /// <summary>The current token as short text for error messages, e.g. "1.5", "\"abc\"", "an object".</summary>
    public static string Describe(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject: return "an object";
            case JsonTokenType.StartArray: return "an array";
            case JsonTokenType.True: return "true";
            case JsonTokenType.False: return "false";
            case JsonTokenType.Null: return "null";
            case JsonTokenType.Number:
            case JsonTokenType.String:
                var raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray();
                var text = Encoding.UTF8.GetString(raw);
                if (text.Length > 40)
                {
                    text = text[..40] + "...";
                }

                return reader.TokenType == JsonTokenType.String ? $"\"{text}\"" : text;
            default:
                return reader.TokenType.ToString();
        }
    }

    public static InferenceRequestException Invalid(string message) =>
        new(InferenceErrorCode.InvalidRequest, message);
}
