using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Mlops.Stream.Inference.Onnx.Internal;

/// <summary>An ONNX Runtime session and the options it was built with; disposed together.</summary>
internal sealed class OwnedSession(InferenceSession session, SessionOptions options, ExecutionDevice device) : IDisposable
{
    public InferenceSession Session { get; } = session;

    public ExecutionDevice Device { get; } = device;

    public void Dispose()
    {
        Session.Dispose();
        options.Dispose();
    }
}

/// <summary>Creates sessions on the requested device, with the CUDA-to-CPU fallback for "auto".</summary>
internal static class SessionFactory
{
    private const string CudaProvider = "CUDAExecutionProvider";

    public static OwnedSession Create(byte[] model, OnnxModelOptions options, ILogger logger, string label)
    {
        switch (options.Device)
        {
            case ExecutionDevice.Cpu:
                return CreateOn(model, options, ExecutionDevice.Cpu, label);

            case ExecutionDevice.Cuda:
                try
                {
                    return CreateOn(model, options, ExecutionDevice.Cuda, label);
                }
                catch (Exception e) when (IsCudaUnavailable(e))
                {
                    throw new ModelLoadException(
                        $"{label}: device 'cuda' was requested but ONNX Runtime cannot use CUDA ({e.Message}). " +
                        "Build with -p:OnnxRuntimeGpu=true on a machine with CUDA and cuDNN, or set the device to 'auto' or 'cpu'.",
                        e);
                }

            default:
                if (!OrtEnv.Instance().GetAvailableProviders().Contains(CudaProvider))
                {
                    logger.LogInformation(
                        "{Model}: this ONNX Runtime build has no CUDA execution provider; running on CPU", label);
                    return CreateOn(model, options, ExecutionDevice.Cpu, label);
                }

                try
                {
                    return CreateOn(model, options, ExecutionDevice.Cuda, label);
                }
                catch (Exception e) when (IsCudaUnavailable(e))
                {
                    // The GPU build is present but CUDA/cuDNN or the device is not usable here.
                    logger.LogWarning("{Model}: CUDA execution provider unavailable ({Reason}); falling back to CPU", label, e.Message);
                    return CreateOn(model, options, ExecutionDevice.Cpu, label);
                }
        }
    }

    /// <summary>
    /// How a missing or broken CUDA setup surfaces: ONNX Runtime errors from a GPU build without
    /// CUDA/cuDNN, and a missing native entry point in the CPU-only build, which does not export
    /// the CUDA provider function at all.
    /// </summary>
    private static bool IsCudaUnavailable(Exception e) =>
        e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException;

    private static OwnedSession CreateOn(byte[] model, OnnxModelOptions options, ExecutionDevice device, string label)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = options.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
        };
        try
        {
            if (options.IntraOpThreads > 0)
            {
                sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
            }

            if (options.InterOpThreads > 0)
            {
                sessionOptions.InterOpNumThreads = options.InterOpThreads;
            }

            if (device == ExecutionDevice.Cuda)
            {
                sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            }

            return new OwnedSession(new InferenceSession(model, sessionOptions), sessionOptions, device);
        }
        catch (Exception e) when (device == ExecutionDevice.Cuda && IsCudaUnavailable(e))
        {
            sessionOptions.Dispose();
            throw;
        }
        catch (OnnxRuntimeException e)
        {
            sessionOptions.Dispose();
            throw new ModelLoadException($"{label}: ONNX Runtime cannot load the model: {e.Message}", e);
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
    }
}
