using System.Diagnostics.CodeAnalysis;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Onnx;

/// <summary>The result for one request of a batch: its outputs, or why it was refused.</summary>
public sealed class InferenceOutcome
{
    private InferenceOutcome(IReadOnlyList<Tensor>? outputs, InferenceError? error)
    {
        Outputs = outputs;
        Error = error;
    }

    /// <summary>Outputs in model order, filtered to the requested ones; each has this request's rows.</summary>
    public IReadOnlyList<Tensor>? Outputs { get; }

    public InferenceError? Error { get; }

    [MemberNotNullWhen(true, nameof(Outputs))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    public static InferenceOutcome Success(IReadOnlyList<Tensor> outputs) => new(outputs, null);

    public static InferenceOutcome Failure(InferenceError error) => new(null, error);
}
