using System.Text.Json;

namespace Mlops.Stream.Inference.Wire.Internal;

internal enum ElementStatus
{
    Ok,
    NonFinite,
    WrongKind,
}

/// <summary>
/// Parses one JSON token into one element. Static abstract so the tensor walker is specialised
/// per element type by the JIT: no delegate call or boxing per element on the hot path.
/// </summary>
internal interface IElementParser<T> where T : unmanaged
{
    static abstract ElementStatus Parse(ref Utf8JsonReader reader, out T value);
}

internal readonly struct Fp32Parser : IElementParser<float>
{
    public static ElementStatus Parse(ref Utf8JsonReader reader, out float value)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetSingle(out value))
            {
                return float.IsFinite(value) ? ElementStatus.Ok : ElementStatus.NonFinite;
            }

            // A well-formed number that does not fit is an overflow to ±infinity (depending on the
            // runtime, TryGetSingle either returns false or the infinity itself; both are handled).
            value = NonFiniteLiterals.StartsWithMinus(ref reader) ? float.NegativeInfinity : float.PositiveInfinity;
            return ElementStatus.NonFinite;
        }

        if (reader.TokenType == JsonTokenType.String && NonFiniteLiterals.TryRead(ref reader, out var special))
        {
            value = (float)special;
            return ElementStatus.NonFinite;
        }

        value = 0;
        return ElementStatus.WrongKind;
    }
}

internal readonly struct Fp64Parser : IElementParser<double>
{
    public static ElementStatus Parse(ref Utf8JsonReader reader, out double value)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetDouble(out value))
            {
                return double.IsFinite(value) ? ElementStatus.Ok : ElementStatus.NonFinite;
            }

            value = NonFiniteLiterals.StartsWithMinus(ref reader) ? double.NegativeInfinity : double.PositiveInfinity;
            return ElementStatus.NonFinite;
        }

        if (reader.TokenType == JsonTokenType.String && NonFiniteLiterals.TryRead(ref reader, out value))
        {
            return ElementStatus.NonFinite;
        }

        value = 0;
        return ElementStatus.WrongKind;
    }
}

internal readonly struct Int32Parser : IElementParser<int>
{
    public static ElementStatus Parse(ref Utf8JsonReader reader, out int value)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out value))
        {
            return ElementStatus.Ok;
        }

        value = 0;
        return ElementStatus.WrongKind;
    }
}

internal readonly struct Int64Parser : IElementParser<long>
{
    public static ElementStatus Parse(ref Utf8JsonReader reader, out long value)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value))
        {
            return ElementStatus.Ok;
        }

        value = 0;
        return ElementStatus.WrongKind;
    }
}

internal readonly struct BoolParser : IElementParser<bool>
{
    public static ElementStatus Parse(ref Utf8JsonReader reader, out bool value)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                value = true;
                return ElementStatus.Ok;
            case JsonTokenType.False:
                value = false;
                return ElementStatus.Ok;
            default:
                value = false;
                return ElementStatus.WrongKind;
        }
    }
}

/// <summary>
/// JSON has no NaN or infinity; like System.Text.Json's named floating-point literals we accept
/// and write them as the strings "NaN", "Infinity" and "-Infinity".
/// </summary>
internal static class NonFiniteLiterals
{
    public static bool TryRead(ref Utf8JsonReader reader, out double value)
    {
        if (reader.ValueTextEquals("NaN"u8))
        {
            value = double.NaN;
            return true;
        }

        if (reader.ValueTextEquals("Infinity"u8))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (reader.ValueTextEquals("-Infinity"u8))
        {
            value = double.NegativeInfinity;
            return true;
        }

        value = 0;
        return false;
    }

    public static bool StartsWithMinus(ref Utf8JsonReader reader) =>
        reader.HasValueSequence
            ? reader.ValueSequence.FirstSpan.Length > 0 && reader.ValueSequence.FirstSpan[0] == (byte)'-'
            : reader.ValueSpan.Length > 0 && reader.ValueSpan[0] == (byte)'-';

    public static string Name(double value) =>
        double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}
