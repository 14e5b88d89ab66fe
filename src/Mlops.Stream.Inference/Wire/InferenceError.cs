using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Wire.Internal;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// A refused request: a stable code plus a message for humans that names the offending input.
/// Serialized as <c>{"error": message, "code": wire code}</c>; "error" is the v2 field, "code"
/// is our addition that v2 clients ignore.
/// </summary>
[JsonConverter(typeof(InferenceErrorJsonConverter))]
public sealed record InferenceError(InferenceErrorCode Code, string Message)
{
    public string WireCode => Code.ToWireCode();

    public override string ToString() => $"{WireCode}: {Message}";
}

/// <summary>Thrown by the decoding and validation entry points that do not return an <see cref="InferenceError"/>.</summary>
public sealed class InferenceRequestException : Exception
{
    public InferenceRequestException(InferenceError error, Exception? inner = null)
        : base(error.Message, inner)
    {
        Error = error;
    }

    public InferenceRequestException(InferenceErrorCode code, string message, Exception? inner = null)
        : this(new InferenceError(code, message), inner)
    {
    }

    public InferenceError Error { get; }

    public InferenceErrorCode Code => Error.Code;
}
