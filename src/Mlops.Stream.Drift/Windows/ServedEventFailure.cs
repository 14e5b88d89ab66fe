namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// Why a served event was left out of every window. Each reason has a stable snake_case
/// <see cref="ServedEventFailure.Code"/> so the job can count and log them by kind.
/// </summary>
public enum ServedEventFailureReason
{
    /// <summary>Not JSON, not an object, or a field of the wrong type.</summary>
    Unreadable,

    /// <summary>id, model, version or served_timestamp is absent.</summary>
    MissingField,

    /// <summary>version is not a whole number.</summary>
    BadVersion,

    /// <summary>The event names another model than the job watches.</summary>
    WrongModel,

    /// <summary>No reference is known for the event's version.</summary>
    UnknownVersion,

    /// <summary>The version is known but its manifest has no reference profile.</summary>
    NoReference,

    /// <summary>No input tensor, or tensors with no rows.</summary>
    NoInputs,

    /// <summary>A tensor's data does not fill its shape, or the tensors do not lay out the reference's features.</summary>
    ShapeMismatch,

    /// <summary>A datatype the statistics cannot take as numbers (e.g. BYTES).</summary>
    UnsupportedDatatype,

    /// <summary>One event has more rows than a whole window may hold.</summary>
    TooManyRows,
}

/// <summary>
/// A served event the job could not use, with where it was, so the job can count it, log it once
/// per kind and carry on: reading never throws for bad input.
/// </summary>
/// <param name="Reason">What was wrong.</param>
/// <param name="Detail">A human sentence for the log.</param>
/// <param name="Partition">Partition of the served-events record.</param>
/// <param name="Offset">Offset of the served-events record.</param>
public sealed record ServedEventFailure(ServedEventFailureReason Reason, string Detail, int Partition, long Offset)
{
    /// <summary>The reason as a stable snake_case code, e.g. <c>shape_mismatch</c>, for metrics labels and logs.</summary>
    public string Code => Reason switch
    {
        ServedEventFailureReason.Unreadable => "unreadable",
        ServedEventFailureReason.MissingField => "missing_field",
        ServedEventFailureReason.BadVersion => "bad_version",
        ServedEventFailureReason.WrongModel => "wrong_model",
        ServedEventFailureReason.UnknownVersion => "unknown_version",
        ServedEventFailureReason.NoReference => "no_reference",
        ServedEventFailureReason.NoInputs => "no_inputs",
        ServedEventFailureReason.ShapeMismatch => "shape_mismatch",
        ServedEventFailureReason.UnsupportedDatatype => "unsupported_datatype",
        ServedEventFailureReason.TooManyRows => "too_many_rows",
        _ => "unknown",
    };
}
