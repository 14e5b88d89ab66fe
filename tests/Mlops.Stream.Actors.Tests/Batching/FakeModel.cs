using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Threading.Channels;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Batching;

/// <summary>
/// A model whose runs a test can watch, hold and fail: input "x" FP32 [-1,1], output "y" = x × version,
/// so a result shows which version ran it. Validation is the real <see cref="RequestValidator"/>.
/// </summary>
internal sealed class FakeModel(int version = 1, string name = "fake") : IInferenceModel
{
    /// <summary>Hang guard only: a blocked run gives up after this so a failing test cannot hang the run.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly ManualResetEventSlim _open = new(true);
    private readonly Channel<string[]> _started = Channel.CreateUnbounded<string[]>();

    public static ModelSignature FakeSignature { get; } = new(
        [new TensorSpec("x", TensorDataType.Fp32, [TensorSpec.DynamicDimension, 1])],
        [new TensorSpec("y", TensorDataType.Fp32, [TensorSpec.DynamicDimension, 1])]);

    public string Name { get; } = name;

    public int Version { get; } = version;

    public ModelSignature Signature => FakeSignature;

    public ExecutionDevice Device => ExecutionDevice.Cpu;

    /// <summary>Request ids of every batch run, in order.</summary>
    public ConcurrentQueue<string[]> Runs { get; } = new();

    /// <summary>When set, runs throw (after being recorded and released).</summary>
    public bool Fail { get; set; }

    /// <summary>When set, a run throws if any row of its batch holds this value (a poison input).</summary>
    public float? Poison { get; set; }

    public static InferenceRequest Request(string id, float value = 1, int rows = 1) =>
        new(id, [Tensor.Create("x", Enumerable.Repeat(value, rows).ToArray(), rows, 1)]);

    /// <summary>Makes the next runs wait in <see cref="Run"/> until <see cref="Release"/>.</summary>
    public void Block() => _open.Reset();

    public void Release() => _open.Set();

    /// <summary>The ids of the next batch to start running (in start order).</summary>
    public Task<string[]> NextRunStartedAsync() => _started.Reader.ReadAsync().AsTask().WaitAsync(Guard);

    public InferenceError? Validate(InferenceRequest request) => RequestValidator.Validate(request, Signature, NonFinitePolicy.Reject);

    public IReadOnlyList<InferenceOutcome> Run(IReadOnlyList<InferenceRequest> batch)
    {
        string[] ids = [.. batch.Select(r => r.Id)];
        Runs.Enqueue(ids);
        _started.Writer.TryWrite(ids);
        if (!_open.Wait(Guard))
        {
            throw new TimeoutException("test model was never released");
        }

        if (Fail)
        {
            throw new InvalidOperationException("the fake model failed on purpose");
        }

        if (Poison is { } poison && batch.Any(r => r.Inputs[0].Span<float>().Contains(poison)))
        {
            throw new InvalidOperationException($"the fake model cannot run {poison}");
        }

        return [.. batch.Select(r => Validate(r) is { } error
            ? InferenceOutcome.Failure(error)
            : InferenceOutcome.Success([Tensor.Create("y", r.Inputs[0].Span<float>().ToArray().Select(v => v * Version).ToArray(), r.Inputs[0].Rows, 1)]))];
    }

    public TimeSpan WarmUp() => TimeSpan.Zero;

    public void Dispose() => _open.Set();
}
