namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// Why a request was refused. The snake_case wire code (<see cref="InferenceErrorCodes.ToWireCode"/>)
/// is a stable contract: it goes into the Kafka dead-letter header <c>mlops-error-code</c> and the
/// <c>code</c> field of HTTP 400 bodies, so existing values must never be renamed.
/// </summary>
public enum InferenceErrorCode
{
    /// <summary>The body is not well-formed JSON.</summary>
    InvalidJson = 1,

    /// <summary>Well-formed JSON that is not a v2 request (no id, a field of the wrong kind, ...).</summary>
    InvalidRequest,

    /// <summary>The request has no inputs, or lacks an input the model needs.</summary>
    MissingInput,

    /// <summary>The request names an input the model does not have.</summary>
    UnknownInput,

    /// <summary>The same input name appears twice.</summary>
    DuplicateInput,

    /// <summary>Element count or nesting does not match the declared shape, or the shape does not fit the model.</summary>
    ShapeMismatch,

    /// <summary>An element is not of the declared datatype, or the datatype differs from the model's.</summary>
    DtypeMismatch,

    /// <summary>The declared datatype is not one this service handles.</summary>
    UnsupportedDatatype,

    /// <summary>A floating-point element is NaN or infinite and the policy rejects those.</summary>
    NonFinite,

    /// <summary>The request asks for an output the model does not produce.</summary>
    UnknownOutput,

    /// <summary>The request id is longer than <see cref="DecodeOptions.MaxIdBytes"/> (it is copied into every record the request produces).</summary>
    IdTooLong,
}

/// <summary>Wire codes for <see cref="InferenceErrorCode"/>.</summary>
public static class InferenceErrorCodes
{
    public static string ToWireCode(this InferenceErrorCode code) => code switch
    {
        InferenceErrorCode.InvalidJson => "invalid_json",
        InferenceErrorCode.InvalidRequest => "invalid_request",
        InferenceErrorCode.MissingInput => "missing_input",
        InferenceErrorCode.UnknownInput => "unknown_input",
        InferenceErrorCode.DuplicateInput => "duplicate_input",
        InferenceErrorCode.ShapeMismatch => "shape_mismatch",
        InferenceErrorCode.DtypeMismatch => "dtype_mismatch",
        InferenceErrorCode.UnsupportedDatatype => "unsupported_datatype",
        InferenceErrorCode.NonFinite => "non_finite",
        InferenceErrorCode.UnknownOutput => "unknown_output",
        InferenceErrorCode.IdTooLong => "id_too_long",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "unknown error code"),
    };

    public static bool TryParse(string wireCode, out InferenceErrorCode code)
    {
        foreach (var candidate in Enum.GetValues<InferenceErrorCode>())
        {
            if (candidate.ToWireCode() == wireCode)
            {
                code = candidate;
                return true;
            }
        }

        code = default;
        return false;
    }
}
