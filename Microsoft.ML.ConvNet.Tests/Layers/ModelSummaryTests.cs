using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.ConvNet.Layers;
using Microsoft.ML.ConvNet.Models;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Layers;

/// <summary>
/// The model summary against the textbook figures (LeNet-5, AlexNet CONV1, VGG-16, GoogLeNet inception (3a), the
/// inception bottleneck and depthwise-separable arithmetic, stacked 3×3 receptive fields). Where a textbook counts
/// weights only, the layers are built with bias: false and the test name says "Weights".
/// </summary>
[TestClass]
public sealed class ModelSummaryTests
{
    public TestContext TestContext { get; set; } = null!;

    private static LayerSummary[] Rows(ModelSummary s, params string[] types)
        => s.Rows.Where(r => types.Contains(r.Type)).ToArray();

    [TestMethod]
    public void LeNet5_PerLayerParametersAndShapes_MatchTheClassicTable()
    {
        using var model = LeNet5.Create(padInputTo32: false);
        var s = model.Summary(1, 32, 32);

        var main = Rows(s, nameof(Conv2d), nameof(MaxPool2d), nameof(Linear));
        CollectionAssert.AreEqual(new long[] { 156, 0, 2_416, 0, 48_120, 10_164, 850 }, main.Select(r => r.Parameters).ToArray());
        CollectionAssert.AreEqual(new[] { "Conv2d", "MaxPool2d", "Conv2d", "MaxPool2d", "Conv2d", "Linear", "Linear" }, main.Select(r => r.Type).ToArray());
        Shape[] expected = [new(1, 6, 28, 28), new(1, 6, 14, 14), new(1, 16, 10, 10), new(1, 16, 5, 5), new(1, 120, 1, 1), new(1, 84), new(1, 10)];
        CollectionAssert.AreEqual(expected, main.Select(r => r.OutputShape).ToArray());
        Assert.IsTrue(Rows(s, nameof(ReLU)).All(r => r.Parameters == 0 && r.Macs == 0));
        Assert.AreEqual(4, Rows(s, nameof(ReLU)).Length);

        Assert.AreEqual(61_706L, s.TotalParameters);
        Assert.AreEqual(61_706L, s.TrainableParameters);
        Assert.AreEqual(0L, s.FrozenParameters);
        Assert.AreEqual(s.TotalParameters, s.Rows.Sum(r => r.Parameters));
        Assert.AreEqual(new Shape(1, 10), s.OutputShape);

        // MACs: C1 28·28·6·25, C3 10·10·16·150, C5 120·400, F6 120·84, output 84·10.
        long[] macs = [117_600, 0, 240_000, 0, 48_000, 10_080, 840];
        CollectionAssert.AreEqual(macs, main.Select(r => r.Macs).ToArray());
        Assert.AreEqual(macs.Sum(), s.Macs);

        // Receptive field along the chain: 5, 6, 14, 16, 32 with jumps 1, 2, 2, 4, 4.
        CollectionAssert.AreEqual(new[] { 5, 6, 14, 16, 32 }, main.Take(5).Select(r => r.ReceptiveField!.Value.H).ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2, 2, 4, 4 }, main.Take(5).Select(r => r.Jump!.Value.W).ToArray());
        Assert.IsNull(main[5].ReceptiveField, "after flatten every output sees the whole input");

        // Activations (input + conv/pool/fc outputs; ReLU in place, flatten a view).
        long activations = 1024 + 4704 + 1176 + 1600 + 400 + 120 + 84 + 10;
        Assert.AreEqual(activations, s.ActivationElements);
        Assert.AreEqual(activations * 4, s.ActivationBytes);
    }

    [TestMethod]
    public void LeNet5_TrainingMemoryEstimate_FollowsTheDocumentedFormula()
    {
        using var model = LeNet5.Create(padInputTo32: false);
        var s = model.Summary(1, 32, 32);
        // Kept for backward: input, every conv/pool/fc output and every ReLU output (new tensors here); flatten is a view.
        long kept = 1024 + (4704 + 4704) + 1176 + (1600 + 1600) + 400 + (120 + 120) + (84 + 84) + 10;
        Assert.AreEqual(kept, s.ForwardTensorElements);
        Assert.AreEqual(4 * (61_706L + 61_706L * 3 + 8 * kept), s.EstimateTrainingBytes(batchSize: 8, optimizerStatesPerParameter: 2));
        Assert.AreEqual(4 * (61_706L + 61_706L + kept), s.EstimateTrainingBytes(1, 0));
    }

    [TestMethod]
    public void AlexNetConv1_On227_Gives55x55x96With34944ParametersAndPool27()
    {
        using var model = new Sequential(new Conv2d(3, 96, 11, stride: 4), new ReLU(), new MaxPool2d(3, 2));
        var s = model.Summary(3, 227, 227);

        var conv = s.Rows[0];
        Assert.AreEqual(new Shape(1, 96, 55, 55), conv.OutputShape);
        Assert.AreEqual(34_944L, conv.Parameters);
        Assert.AreEqual(55L * 55 * 96 * 3 * 11 * 11, conv.Macs);
        Assert.AreEqual("W2 = (W1 − F + 2P)/S + 1 = (227 − 11 + 2·0)/4 + 1 = 55", conv.Arithmetic);
        Assert.AreEqual(new Size2(11, 11), conv.ReceptiveField);
        Assert.AreEqual(new Size2(4, 4), conv.Jump);

        var pool = s.Rows[2];
        Assert.AreEqual(nameof(MaxPool2d), pool.Type);
        Assert.AreEqual(new Shape(1, 96, 27, 27), pool.OutputShape);
        Assert.AreEqual(0L, pool.Parameters);
        Assert.AreEqual("W2 = (W1 − F + 2P)/S + 1 = (55 − 3 + 2·0)/2 + 1 = 27", pool.Arithmetic);
        Assert.AreEqual(new Size2(19, 19), pool.ReceptiveField); // 11 + (3 − 1)·4
        Assert.AreEqual(34_944L, s.TotalParameters);
    }

    private static Sequential Vgg16()
    {
        var layers = new List<Module>();
        int c = 3;
        foreach (int v in new[] { 64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0 })
        {
            if (v == 0)
            {
                layers.Add(new MaxPool2d(2, 2));
            }
            else
            {
                layers.Add(new Conv2d(c, v, 3, padding: 1));
                layers.Add(new ReLU());
                c = v;
            }
        }
        layers.AddRange([new Flatten(), new Linear(25_088, 4_096), new ReLU(), new Dropout(0.5f), new Linear(4_096, 4_096), new ReLU(),
            new Dropout(0.5f), new Linear(4_096, 1_000)]);
        return new Sequential([.. layers]);
    }

    [TestMethod]
    public void Vgg16_On224_ParametersActivationsAndMacsMatchTheCs231nTable()
    {
        var clock = Stopwatch.StartNew();
        using var model = Vgg16();
        long built = clock.ElapsedMilliseconds;
        var s = model.Summary(3, 224, 224);
        TestContext.WriteLine($"VGG-16 build {built} ms, summary (forward at 224) {clock.ElapsedMilliseconds - built} ms");

        Assert.AreEqual(138_357_544L, s.TotalParameters);
        var convs = Rows(s, nameof(Conv2d));
        Assert.AreEqual(13, convs.Length);
        Assert.AreEqual(new Shape(1, 64, 224, 224), convs[0].OutputShape);
        Assert.AreEqual(3_211_264L, convs[0].OutputElements); // "224·224·64 = 3.2M"
        // Weights without bias: 3·3·3·64 = 1 728 and 3·3·64·64 = 36 864; first FC 7·7·512·4096 = 102 760 448.
        Assert.AreEqual(1_728L + 64, convs[0].Parameters);
        Assert.AreEqual(36_864L + 64, convs[1].Parameters);
        Assert.AreEqual(102_760_448L + 4_096, Rows(s, nameof(Linear))[0].Parameters);
        Assert.AreEqual(new Shape(1, 512, 7, 7), Rows(s, nameof(MaxPool2d))[^1].OutputShape);

        // Input + every conv/pool/fc output: 15 237 608 values = 60 950 432 bytes (≈ 61 MB) per image. The
        // CS231n table prints "TOTAL memory: 24M * 4 bytes ~= 96MB / image", but its own rows add up to ≈ 15.2M.
        Assert.AreEqual(15_237_608L, s.ActivationElements);
        Assert.AreEqual(60_950_432L, s.ActivationBytes);
        Assert.AreEqual(15_470_264_320L, s.Macs); // ≈ 15.5 GMACs
        // Receptive field: conv5_3 196 (jump 16), pool5 212 (jump 32).
        Assert.AreEqual(new Size2(196, 196), convs[^1].ReceptiveField);
        Assert.AreEqual(new Size2(16, 16), convs[^1].Jump);
        Assert.AreEqual(new Size2(212, 212), Rows(s, nameof(MaxPool2d))[^1].ReceptiveField);
        Assert.AreEqual(new Size2(32, 32), Rows(s, nameof(MaxPool2d))[^1].Jump);
    }

    /// <summary>GoogLeNet's inception module: four branches concatenated on the channel axis.</summary>
    private sealed class Inception : Module
    {
        private readonly Module _b1, _b2, _b3, _b4;

        public Inception(int cin, int c1, int c3r, int c3, int c5r, int c5, int pool, bool bias)
        {
            _b1 = RegisterModule("branch1", new Conv2d(cin, c1, 1, bias: bias));
            _b2 = RegisterModule("branch2", new Sequential(new Conv2d(cin, c3r, 1, bias: bias), new ReLU(), new Conv2d(c3r, c3, 3, padding: 1, bias: bias)));
            _b3 = RegisterModule("branch3", new Sequential(new Conv2d(cin, c5r, 1, bias: bias), new ReLU(), new Conv2d(c5r, c5, 5, padding: 2, bias: bias)));
            _b4 = RegisterModule("branch4", new Sequential(new MaxPool2d(3, 1, padding: 1), new Conv2d(cin, pool, 1, bias: bias)));
        }

        protected override Tensor ForwardCore(Tensor input)
            => Tensor.Concat([_b1.Forward(input), _b2.Forward(input), _b3.Forward(input), _b4.Forward(input)], 1);
    }

    [TestMethod]
    public void Inception3aWeights_Are163328_About159KInTheTable()
    {
        using var model = new Inception(192, 64, 96, 128, 16, 32, 32, bias: false);
        var s = model.Summary(192, 28, 28);

        Assert.AreEqual(new Shape(1, 256, 28, 28), s.OutputShape);
        // 192·64 + 192·96 + 9·96·128 + 192·16 + 25·16·32 + 192·32 = 12 288 + 18 432 + 110 592 + 3 072 + 12 800 + 6 144.
        CollectionAssert.AreEqual(new long[] { 12_288, 18_432, 110_592, 3_072, 12_800, 6_144 }, Rows(s, nameof(Conv2d)).Select(r => r.Parameters).ToArray());
        Assert.AreEqual(163_328L, s.TotalParameters);
        // Szegedy et al. (2015), table 1, lists "159K" for inception (3a): ours is 2.7 % more.
        Assert.AreEqual(159_000d, s.TotalParameters, 159_000d * 0.03);

        // The concatenation is the container's own tensor: one container row, counted as an activation.
        var concat = s.Rows[^1];
        Assert.IsTrue(concat.IsContainer);
        Assert.AreEqual("(model)", concat.Name);
        Assert.IsTrue(concat.CountsAsActivation);
        Assert.AreEqual(256L * 28 * 28, concat.OutputElements);
        // Branch receptive fields are tracked per tensor (1, 3, 5, 3); the concatenation takes the largest.
        var convs = Rows(s, nameof(Conv2d));
        CollectionAssert.AreEqual(new[] { 1, 1, 3, 1, 5, 3 }, convs.Select(r => r.ReceptiveField!.Value.W).ToArray());
        Assert.AreEqual(new Size2(5, 5), concat.ReceptiveField);
    }

    [TestMethod]
    public void Inception3aWithBias_Is163696()
    {
        using var model = new Inception(192, 64, 96, 128, 16, 32, 32, bias: true);
        Assert.AreEqual(163_696L, model.Summary(192, 28, 28).TotalParameters);
    }

    [TestMethod]
    public void InceptionBottleneckWeights_CutMultipliesFrom120MTo12M()
    {
        using var direct = new Conv2d(192, 32, 5, padding: 2, bias: false);
        var d = direct.Summary(192, 28, 28);
        Assert.AreEqual(153_600L, d.TotalParameters);
        Assert.AreEqual(120_422_400L, d.Macs);
        Assert.AreEqual(new Shape(1, 32, 28, 28), d.OutputShape);
        Assert.AreEqual("(model)", d.Rows.Single().Name);

        using var bottleneck = new Sequential(new Conv2d(192, 16, 1, bias: false), new Conv2d(16, 32, 5, padding: 2, bias: false));
        var b = bottleneck.Summary(192, 28, 28);
        CollectionAssert.AreEqual(new long[] { 3_072, 12_800 }, b.Rows.Select(r => r.Parameters).ToArray());
        CollectionAssert.AreEqual(new long[] { 2_408_448, 10_035_200 }, b.Rows.Select(r => r.Macs).ToArray());
        Assert.AreEqual(15_872L, b.TotalParameters);
        Assert.AreEqual(12_443_648L, b.Macs);
    }

    [TestMethod]
    public void DepthwiseSeparableWeights_26Versus72AndMultiplies416Versus1152()
    {
        using var regular = new Conv2d(2, 4, 3, bias: false);
        var r = regular.Summary(2, 6, 6);
        Assert.AreEqual(new Shape(1, 4, 4, 4), r.OutputShape);
        Assert.AreEqual(72L, r.TotalParameters);
        Assert.AreEqual(1_152L, r.Macs);

        using var separable = new Sequential(new Conv2d(2, 2, 3, groups: 2, bias: false), new Conv2d(2, 4, 1, bias: false));
        var s = separable.Summary(2, 6, 6);
        Assert.AreEqual(new Shape(1, 4, 4, 4), s.OutputShape);
        CollectionAssert.AreEqual(new long[] { 18, 8 }, s.Rows.Select(x => x.Parameters).ToArray());
        CollectionAssert.AreEqual(new long[] { 288, 128 }, s.Rows.Select(x => x.Macs).ToArray());
        Assert.AreEqual(26L, s.TotalParameters);
        Assert.AreEqual(416L, s.Macs);
    }

    [TestMethod]
    public void ThreeStacked3x3Convs_HaveA7x7ReceptiveField()
    {
        using var model = new Sequential(new Conv2d(4, 4, 3, padding: 1), new ReLU(), new Conv2d(4, 4, 3, padding: 1), new ReLU(),
            new Conv2d(4, 4, 3, padding: 1), new ReLU());
        var s = model.Summary(4, 16, 16);
        CollectionAssert.AreEqual(new[] { 3, 3, 5, 5, 7, 7 }, s.Rows.Select(r => r.ReceptiveField!.Value.H).ToArray());
        Assert.AreEqual(new Size2(1, 1), s.Rows[^1].Jump);
        Assert.AreEqual("W2 = (W1 − F + 2P)/S + 1 = (16 − 3 + 2·1)/1 + 1 = 16", s.Rows[0].Arithmetic);
    }

    [TestMethod]
    public void DilatedStridedAndNonSquareLayers_ReceptiveFieldAndArithmetic()
    {
        using var model = new Sequential(new Conv2d(1, 2, 3, stride: 2, dilation: 2), new MaxPool2d(3, 2, ceilMode: true), new Conv2d(2, 2, (1, 7), padding: (0, 3)));
        var s = model.Summary(1, 21, 21);
        // 3×3 dilation 2 = effective 5: rf 5, jump 2; pool 3 stride 2: rf 5 + 2·2 = 9, jump 4; 1×7: width 9 + 6·4 = 33.
        Assert.AreEqual(new Size2(5, 5), s.Rows[0].ReceptiveField);
        Assert.AreEqual("W2 = (W1 − (D·(F − 1) + 1) + 2P)/S + 1 = (21 − (2·(3 − 1) + 1) + 2·0)/2 + 1 = 9", s.Rows[0].Arithmetic);
        Assert.AreEqual(new Size2(9, 9), s.Rows[1].ReceptiveField);
        Assert.AreEqual("W2 = ⌈(W1 − F + 2P)/S⌉ + 1 = ⌈(9 − 3 + 2·0)/2⌉ + 1 = 4", s.Rows[1].Arithmetic);
        Assert.AreEqual(new Size2(9, 33), s.Rows[2].ReceptiveField);
        Assert.AreEqual(new Size2(4, 4), s.Rows[2].Jump);
        Assert.AreEqual("H2 = (H1 − F + 2P)/S + 1 = (4 − 1 + 2·0)/1 + 1 = 4; W2 = (W1 − F + 2P)/S + 1 = (4 − 7 + 2·3)/1 + 1 = 4", s.Rows[2].Arithmetic);
    }

    /// <summary>A residual block that reuses one ReLU module (as torchvision's BasicBlock does).</summary>
    private sealed class Residual : Module
    {
        private readonly Conv2d _conv1, _conv2;
        private readonly ReLU _relu;

        public Residual(int c)
        {
            _conv1 = RegisterModule("conv1", new Conv2d(c, c, 3, padding: 1, bias: false));
            _relu = RegisterModule("relu", new ReLU());
            _conv2 = RegisterModule("conv2", new Conv2d(c, c, 3, padding: 1, bias: false));
        }

        protected override Tensor ForwardCore(Tensor input) => _relu.Forward(_conv2.Forward(_relu.Forward(_conv1.Forward(input))) + input);
    }

    [TestMethod]
    public void SharedModuleAndResidualSum_AreCountedOnce()
    {
        using var model = new Residual(2);
        var s = model.Summary(2, 8, 8);
        CollectionAssert.AreEqual(new[] { "conv1", "relu", "conv2", "relu (call 2)" }, s.Rows.Select(r => r.Name).ToArray());
        Assert.AreEqual(s.TotalParameters, s.Rows.Sum(r => r.Parameters));
        // The first ReLU runs in place on conv1's output; the second makes the residual sum's tensor: counted.
        CollectionAssert.AreEqual(new[] { true, false, true, true }, s.Rows.Select(r => r.CountsAsActivation).ToArray());
        Assert.AreEqual(4L * 128, s.ActivationElements);
        Assert.AreEqual(new Size2(5, 5), s.Rows[^1].ReceptiveField);
    }

    [TestMethod]
    public void FrozenParametersAndTrainingModes_AreReportedAndRestored()
    {
        using var model = SmallCnn.Create();
        model[0].Freeze();
        model[1].Eval();
        var s = model.Summary(1, 28, 28);
        Assert.AreEqual(model.ParameterCount(), s.TotalParameters);
        Assert.AreEqual(32L * 9 + 32, s.FrozenParameters);
        Assert.AreEqual(0L, s.Rows[0].TrainableParameters);
        Assert.AreEqual(32L * 2 + 64L * 2 + 2, s.BufferElements); // running mean/var and num_batches_tracked per BN
        Assert.IsTrue(model.IsTraining);
        Assert.IsFalse(model[1].IsTraining);
        Assert.IsTrue(model[11].IsTraining);
        Assert.AreEqual(new Shape(1, 10), s.OutputShape);
    }

    [TestMethod]
    public void ToJsonAndTable_CarryTheTotalsAndRows()
    {
        using var model = LeNet5.Create(padInputTo32: false);
        var s = model.Summary(1, 32, 32);
        using var doc = JsonDocument.Parse(s.ToJson());
        var root = doc.RootElement;
        Assert.AreEqual(61_706L, root.GetProperty("totalParameters").GetInt64());
        Assert.AreEqual(61_706L, root.GetProperty("trainableParameters").GetInt64());
        Assert.AreEqual(s.Macs, root.GetProperty("macs").GetInt64());
        Assert.AreEqual(s.ActivationBytes, root.GetProperty("activationBytes").GetInt64());
        var rows = root.GetProperty("rows");
        Assert.AreEqual(s.Rows.Count, rows.GetArrayLength());
        Assert.AreEqual("Conv2d", rows[0].GetProperty("type").GetString());
        Assert.AreEqual(156, rows[0].GetProperty("parameters").GetInt32());
        Assert.AreEqual(28, rows[0].GetProperty("outputShape")[3].GetInt32());
        Assert.AreEqual(5, rows[0].GetProperty("receptiveField")[0].GetInt32());
        Assert.AreEqual(JsonValueKind.Null, rows[9].GetProperty("receptiveField").ValueKind);
        Assert.IsFalse(s.ToJson().Contains('\n', StringComparison.Ordinal));

        string table = s.ToString();
        StringAssert.Contains(table, "6×28×28");
        StringAssert.Contains(table, "48,120");
        StringAssert.Contains(table, "61,706 total");
        StringAssert.Contains(table, "(32 − 5 + 2·0)/1 + 1 = 28");
    }

    [TestMethod]
    public void BadInputShape_NamesTheProblem()
    {
        using var model = LeNet5.Create();
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.Summary(1, 0, 28));
        StringAssert.Contains(e.Message, "[1, 0, 28]");
        Assert.ThrowsExactly<ArgumentException>(() => model.Summary());
    }
}
