using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Onnx;

public sealed class OnnxModelTests : IDisposable
{
    private static readonly OnnxModelOptions Cpu = new() { Device = ExecutionDevice.Cpu, IntraOpThreads = 1 };
    private readonly OnnxModel _model = OnnxModel.Load("fraud-demo", 3, DemoFixture.Model.OnnxModel, Cpu);

    public void Dispose() => _model.Dispose();

    private static InferenceRequest Rows(string id, int start, int count) =>
        new(id, [Tensor.Create("features", DemoFixture.Model.HoldOut.Slice(start, count).Features, count, FraudDataset.FeatureCount)]);

    [Fact]
    public void The_loaded_model_exposes_the_signature_onnx_runtime_reports()
    {
        Assert.Equal(DemoModelBuilder.Signature, _model.Signature);
        Assert.Equal(DemoModelBuilder.Signature, OnnxSignature.Read(DemoFixture.Model.OnnxModel));
        Assert.Equal((ExecutionDevice.Cpu, "fraud-demo", 3), (_model.Device, _model.Name, _model.Version));
        Assert.True(_model.Signature.IsBatchable);
    }

    [Fact]
    public void A_batch_of_requests_gives_the_same_outputs_as_running_each_alone()
    {
        InferenceRequest[] batch = [Rows("a", 0, 1), Rows("b", 1, 3), Rows("c", 4, 2), Rows("d", 6, 1)];

        var batched = _model.Run(batch);
        var singles = batch.Select(r => Assert.Single(_model.Run([r]))).ToArray();

        Assert.Equal(batch.Length, batched.Count);
        for (var i = 0; i < batch.Length; i++)
        {
            Assert.True(batched[i].IsSuccess);
            Assert.True(singles[i].IsSuccess);
            var rows = batch[i].Inputs[0].Rows;
            Assert.Equal([rows, 2L], batched[i].Outputs![0].Shape.ToArray());
            Assert.Equal([rows], batched[i].Outputs![1].Shape.ToArray());
            AssertClose(singles[i].Outputs![0].Span<float>(), batched[i].Outputs![0].Span<float>());
            Assert.Equal(singles[i].Outputs![1].Span<long>().ToArray(), batched[i].Outputs![1].Span<long>().ToArray());
        }
    }

    [Fact]
    public void A_bad_request_is_refused_alone_and_its_batch_mates_are_served()
    {
        var wrongWidth = new InferenceRequest("wide", [Tensor.Create("features", new float[31], 1, 31)]);
        var nanData = DemoFixture.Model.HoldOut.Slice(0, 1).Features;
        nanData[5] = float.NaN;
        var withNan = new InferenceRequest("nan", [Tensor.Create("features", nanData, 1, 30)]);
        var wrongType = new InferenceRequest("f64", [Tensor.Create("features", new double[30], 1, 30)]);
        var wrongName = new InferenceRequest("name", [Tensor.Create("x", new float[30], 1, 30)]);
        var good = Rows("good", 10, 2);

        var outcomes = _model.Run([wrongWidth, good, withNan, wrongType, wrongName]);

        Assert.Equal("shape_mismatch", outcomes[0].Error!.WireCode);
        Assert.Contains("[1,31]", outcomes[0].Error!.Message);
        Assert.True(outcomes[1].IsSuccess);
        Assert.Equal("non_finite", outcomes[2].Error!.WireCode);
        Assert.Equal("dtype_mismatch", outcomes[3].Error!.WireCode);
        Assert.Equal("unknown_input", outcomes[4].Error!.WireCode);
        AssertClose(_model.Run([good])[0].Outputs![0].Span<float>(), outcomes[1].Outputs![0].Span<float>());
        Assert.Equal(outcomes[0].Error, _model.Validate(wrongWidth));
    }

    [Fact]
    public void Non_finite_inputs_reach_the_model_when_the_policy_allows_them()
    {
        using var lenient = OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, Cpu with { NonFinite = NonFinitePolicy.Allow });
        var data = new float[30];
        data[0] = float.NaN;

        var outcome = lenient.Run([new InferenceRequest("nan", [Tensor.Create("features", data, 1, 30)])])[0];

        Assert.True(outcome.IsSuccess);
        Assert.True(float.IsNaN(outcome.Outputs[0].Span<float>()[0]));
    }

    [Fact]
    public void Only_the_requested_outputs_are_returned()
    {
        var outcome = _model.Run([Rows("a", 0, 2) with { RequestedOutputs = ["label"] }])[0];

        Assert.Equal(["label"], outcome.Outputs!.Select(o => o.Name));
    }

    [Fact]
    public void Warm_up_runs_the_sample_request_or_zeros()
    {
        using var withSample = OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, Cpu, warmUpRequest: DemoFixture.Model.SampleRequest);
        using var broken = OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, Cpu, warmUpRequest: Rows("x", 0, 1) with { RequestedOutputs = ["nope"] });

        Assert.True(withSample.WarmUp() > TimeSpan.Zero);
        Assert.True(_model.WarmUp() > TimeSpan.Zero);
        var error = Assert.Throws<ModelLoadException>(() => broken.WarmUp());
        Assert.Contains("unknown_output", error.Message);
    }

    [Fact]
    public void Auto_falls_back_to_cpu_with_one_log_line_when_cuda_is_absent()
    {
        var logger = new ListLogger();

        using var model = OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, new OnnxModelOptions(), logger);

        if (CudaPresent)
        {
            // GPU build on a GPU machine: auto must pick CUDA, and there is nothing to fall back from.
            Assert.Equal(ExecutionDevice.Cuda, model.Device);
            return;
        }

        Assert.Equal(ExecutionDevice.Cpu, model.Device);
        var line = Assert.Single(logger.Entries);
        Assert.Contains("CPU", line.Message);
        Assert.True(line.Level >= LogLevel.Information);
    }

    [Fact]
    public void Requiring_cuda_where_it_is_unavailable_fails_the_load_clearly()
    {
        if (CudaPresent)
        {
            using var onGpu = OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, new OnnxModelOptions { Device = ExecutionDevice.Cuda });
            Assert.Equal(ExecutionDevice.Cuda, onGpu.Device);
            return;
        }

        var error = Assert.Throws<ModelLoadException>(
            () => OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, new OnnxModelOptions { Device = ExecutionDevice.Cuda }));

        Assert.Contains("device 'cuda'", error.Message);
        Assert.Contains("-p:OnnxRuntimeGpu=true", error.Message);
    }

    [Fact]
    public void Loading_fails_when_the_model_differs_from_the_expected_signature_or_is_not_onnx()
    {
        var expected = new ModelSignature([new TensorSpec("features", TensorDataType.Fp32, [-1, 30])], []);

        var mismatch = Assert.Throws<ModelLoadException>(
            () => OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, Cpu, expectedSignature: expected));
        var garbage = Assert.Throws<ModelLoadException>(() => OnnxModel.Load("junk", 1, [1, 2, 3, 4], Cpu));

        Assert.Contains("unexpected output 'probabilities'", mismatch.Message);
        Assert.Contains("model 'junk' version 1", garbage.Message);
    }

    [Fact]
    public void A_model_without_a_batch_axis_runs_each_request_on_its_own()
    {
        // Pin the demo graph's symbolic batch dimension to 1: nothing can be stacked any more.
        var proto = Mlops.Stream.Demo.Onnx.Proto.ModelProto.Parser.ParseFrom(DemoFixture.Model.OnnxModel);
        foreach (var value in proto.Graph.Input.Concat(proto.Graph.Output))
        {
            value.Type.TensorType.Shape.Dim[0].DimValue = 1;
        }

        using var fixedBatch = OnnxModel.Load("fixed", 1, Google.Protobuf.MessageExtensions.ToByteArray(proto), Cpu);
        InferenceRequest[] batch = [Rows("a", 0, 1), Rows("b", 1, 2), Rows("c", 3, 1)];

        var outcomes = fixedBatch.Run(batch);

        Assert.False(fixedBatch.Signature.IsBatchable);
        Assert.Equal([1L, 30L], fixedBatch.Signature.Inputs[0].Shape.ToArray());
        Assert.Equal("shape_mismatch", outcomes[1].Error!.WireCode);
        AssertClose(_model.Run([batch[0]])[0].Outputs![0].Span<float>(), outcomes[0].Outputs![0].Span<float>());
        AssertClose(_model.Run([batch[2]])[0].Outputs![0].Span<float>(), outcomes[2].Outputs![0].Span<float>());
    }

    [Fact]
    public void Running_after_dispose_is_refused()
    {
        var model = OnnxModel.Load("fraud-demo", 1, DemoFixture.Model.OnnxModel, Cpu);
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Run([Rows("a", 0, 1)]));
    }

    /// <summary>
    /// Whether CUDA can really be used here: a GPU build lists the CUDA provider as available even on
    /// a machine without CUDA or cuDNN, where appending it fails to load its shared library.
    /// </summary>
    private static bool CudaPresent => CudaUsable.Value;

    private static readonly Lazy<bool> CudaUsable = new(() =>
    {
        if (!OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider")) return false;
        using var options = new SessionOptions();
        try
        {
            options.AppendExecutionProvider_CUDA(0);
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    });

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6, $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
