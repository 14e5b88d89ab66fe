using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Mlops.Stream.Inference.Onnx.Internal;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Onnx;

/// <summary>
/// A model version served by ONNX Runtime: one InferenceSession per loaded version, shared by all
/// batches (InferenceSession.Run is thread-safe). A batch of N requests becomes one tensor per
/// input and one Run; outputs are split back per request.
/// </summary>
public sealed class OnnxModel : IInferenceModel
{
    private readonly OwnedSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly NonFinitePolicy _nonFinite;
    private readonly InferenceRequest? _warmUpRequest;
    private int _disposed;

    private OnnxModel(string name, int version, OwnedSession session, ModelSignature signature, NonFinitePolicy nonFinite, InferenceRequest? warmUpRequest)
    {
        Name = name;
        Version = version;
        _session = session;
        Signature = signature;
        _nonFinite = nonFinite;
        _warmUpRequest = warmUpRequest;
        _inputNames = [.. signature.Inputs.Select(s => s.Name)];
        _outputNames = [.. signature.Outputs.Select(s => s.Name)];
    }

    public string Name { get; }

    public int Version { get; }

    public ModelSignature Signature { get; }

    public ExecutionDevice Device => _session.Device;

    /// <summary>
    /// Opens a verified registry version: the manifest's signature must equal the model's own,
    /// and its sample request becomes the warm-up request.
    /// </summary>
    public static OnnxModel Load(ModelArtifacts artifacts, OnnxModelOptions? options = null, ILogger? logger = null) =>
        Load(
            artifacts.Manifest.Name,
            artifacts.Manifest.Version,
            artifacts.ModelBytes,
            options,
            logger,
            artifacts.Manifest.Signature,
            artifacts.Manifest.SampleRequest);

    /// <summary>Opens a model from ONNX bytes.</summary>
    /// <param name="expectedSignature">When given, loading fails unless the model's inputs and outputs equal it.</param>
    /// <param name="warmUpRequest">Request <see cref="WarmUp"/> runs; zeros of one row when null.</param>
    /// <exception cref="ModelLoadException">ONNX Runtime rejects the model, the device is unusable or the signature differs.</exception>
    public static OnnxModel Load(
        string name,
        int version,
        byte[] onnxModel,
        OnnxModelOptions? options = null,
        ILogger? logger = null,
        ModelSignature? expectedSignature = null,
        InferenceRequest? warmUpRequest = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(onnxModel);
        options ??= OnnxModelOptions.Default;
        options.Validate();
        var label = $"model '{name}' version {version}";
        var session = SessionFactory.Create(onnxModel, options, logger ?? NullLogger.Instance, label);
        try
        {
            var signature = OrtTypes.ReadSignature(session.Session, label);
            if (expectedSignature is not null && expectedSignature.Differences(signature) is { Count: > 0 } differences)
            {
                throw new ModelLoadException($"{label}: the model does not match its declared signature: {string.Join("; ", differences)}");
            }

            return new OnnxModel(name, version, session, signature, options.NonFinite, warmUpRequest);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public InferenceError? Validate(InferenceRequest request) => RequestValidator.Validate(request, Signature, _nonFinite);

    public IReadOnlyList<InferenceOutcome> Run(IReadOnlyList<InferenceRequest> batch)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var outcomes = new InferenceOutcome[batch.Count];
        var valid = new List<int>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (Validate(batch[i]) is { } error)
            {
                outcomes[i] = InferenceOutcome.Failure(error);
            }
            else
            {
                valid.Add(i);
            }
        }

        if (valid.Count == 0)
        {
            return outcomes;
        }

        if (Signature.IsBatchable)
        {
            RunStacked(batch, valid, outcomes);
        }
        else
        {
            // Without a batch axis on every input and output there is no row to split by, so each
            // request runs on its own. Still one session and no per-request setup.
            foreach (var i in valid)
            {
                outcomes[i] = RunSingle(batch[i]);
            }
        }

        return outcomes;
    }

    public TimeSpan WarmUp()
    {
        var request = _warmUpRequest ?? ZeroRequest();
        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<InferenceOutcome> outcomes;
        try
        {
            outcomes = Run([request]);
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException)
        {
            throw new ModelLoadException($"model '{Name}' version {Version}: warm-up run failed: {e.Message}", e);
        }

        if (outcomes[0].Error is { } error)
        {
            throw new ModelLoadException($"model '{Name}' version {Version}: warm-up request was refused: {error}");
        }

        return Stopwatch.GetElapsedTime(started);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _runOptions.Dispose();
        _session.Dispose();
    }

    public override string ToString() => $"model '{Name}' version {Version} on {Device.ToConfigName()}";

    private void RunStacked(IReadOnlyList<InferenceRequest> batch, List<int> valid, InferenceOutcome[] outcomes)
    {
        var rowCounts = new long[valid.Count];
        long totalRows = 0;
        for (var k = 0; k < valid.Count; k++)
        {
            rowCounts[k] = batch[valid[k]].FindInput(_inputNames[0])!.Rows;
            totalRows += rowCounts[k];
        }

        var inputs = new OrtValue[_inputNames.Length];
        try
        {
            for (var j = 0; j < _inputNames.Length; j++)
            {
                if (valid.Count == 1)
                {
                    inputs[j] = BatchTensors.Wrap(batch[valid[0]].FindInput(_inputNames[j])!);
                }
                else
                {
                    var parts = new Tensor[valid.Count];
                    for (var k = 0; k < valid.Count; k++)
                    {
                        parts[k] = batch[valid[k]].FindInput(_inputNames[j])!;
                    }

                    inputs[j] = BatchTensors.Stack(parts, totalRows);
                }
            }

            using var results = _session.Session.Run(_runOptions, _inputNames, inputs, _outputNames);
            var perOutput = new Tensor[_outputNames.Length][];
            for (var o = 0; o < _outputNames.Length; o++)
            {
                perOutput[o] = BatchTensors.Split(results[o], _outputNames[o], Signature.Outputs[o].DataType, rowCounts);
            }

            for (var k = 0; k < valid.Count; k++)
            {
                var outputs = new Tensor[_outputNames.Length];
                for (var o = 0; o < outputs.Length; o++)
                {
                    outputs[o] = perOutput[o][k];
                }

                outcomes[valid[k]] = InferenceOutcome.Success(Requested(batch[valid[k]], outputs));
            }
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }

    private InferenceOutcome RunSingle(InferenceRequest request)
    {
        var inputs = new OrtValue[_inputNames.Length];
        try
        {
            for (var j = 0; j < _inputNames.Length; j++)
            {
                inputs[j] = BatchTensors.Wrap(request.FindInput(_inputNames[j])!);
            }

            using var results = _session.Session.Run(_runOptions, _inputNames, inputs, _outputNames);
            var outputs = new Tensor[_outputNames.Length];
            for (var o = 0; o < outputs.Length; o++)
            {
                outputs[o] = BatchTensors.Copy(results[o], _outputNames[o], Signature.Outputs[o].DataType);
            }

            return InferenceOutcome.Success(Requested(request, outputs));
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }

    private static IReadOnlyList<Tensor> Requested(InferenceRequest request, Tensor[] outputs)
    {
        if (request.RequestedOutputs is not { } names)
        {
            return outputs;
        }

        return [.. outputs.Where(o => names.Contains(o.Name))];
    }

    private InferenceRequest ZeroRequest()
    {
        var inputs = new List<Tensor>(Signature.Inputs.Length);
        foreach (var spec in Signature.Inputs)
        {
            var shape = spec.Shape.Select(d => d == TensorSpec.DynamicDimension ? 1L : d).ToArray();
            var count = (int)Tensor.ElementCountOf(shape);
            inputs.Add(spec.DataType switch
            {
                TensorDataType.Fp32 => Tensor.Create(spec.Name, new float[count], shape),
                TensorDataType.Fp64 => Tensor.Create(spec.Name, new double[count], shape),
                TensorDataType.Int32 => Tensor.Create(spec.Name, new int[count], shape),
                TensorDataType.Int64 => Tensor.Create(spec.Name, new long[count], shape),
                TensorDataType.Bool => Tensor.Create(spec.Name, new bool[count], shape),
                _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.DataType, "unknown tensor data type"),
            });
        }

        return new InferenceRequest("warm-up", inputs);
    }
}
