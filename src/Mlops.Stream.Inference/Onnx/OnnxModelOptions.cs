using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Onnx;

/// <summary>How to open a model version: device, ONNX Runtime threading and input policy.</summary>
public sealed record OnnxModelOptions
{
    public static OnnxModelOptions Default { get; } = new();

    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;

    /// <summary>CUDA device ordinal when running on GPU.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 lets it pick (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads for running independent operators in parallel; 0 lets ONNX Runtime pick.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Whether NaN/infinity in floating-point inputs is refused (code non_finite) or passed to the model.</summary>
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Reject;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting.</summary>
    public void Validate()
    {
        if (IntraOpThreads < 0)
        {
            throw new ArgumentException($"{nameof(IntraOpThreads)} must be 0 (automatic) or positive, was {IntraOpThreads}");
        }

        if (InterOpThreads < 0)
        {
            throw new ArgumentException($"{nameof(InterOpThreads)} must be 0 (automatic) or positive, was {InterOpThreads}");
        }

        if (CudaDeviceId < 0)
        {
            throw new ArgumentException($"{nameof(CudaDeviceId)} must not be negative, was {CudaDeviceId}");
        }
    }
}
