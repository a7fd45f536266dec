using System.Text.Json;
using Microsoft.ML.ConvNet.Cli.Commands;
using Microsoft.ML.ConvNet.Data;
using Microsoft.ML.ConvNet.Tests.Data;
using Microsoft.ML.ConvNet.Tests.MLNet;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using static Microsoft.ML.ConvNet.Tests.Cli.CliHarness;

namespace Microsoft.ML.ConvNet.Tests.Cli;

/// <summary>
/// <c>convnet train</c>, <c>evaluate</c> and <c>predict</c>, run in-process on a Fashion-MNIST subset and on a generated
/// image folder. One LeNet-5 is trained on Fashion-MNIST for the whole class; models are ML.NET zips.
/// </summary>
[TestClass]
public sealed class ConvNetCommandsTests
{
    private const int TrainLimit = 1000;
    private const int TestLimit = 200;

    private static string _tmp = null!;
    private static string _fashionModel = null!;
    private static (int Code, string Out, string Err) _fashionRun;

    [ClassInitialize]
    public static void TrainFashionMnistModel(TestContext context)
    {
        _tmp = TempFolder("cli");
        _fashionModel = Path.Combine(_tmp, "models", "lenet5.zip");
        _fashionRun = Run("train", "--dataset", "fashion-mnist", "--data-dir", FashionMnistTests.BundledFolder(), "--arch", "lenet5",
            "--epochs", "1", "--train-limit", TrainLimit.ToString(), "--test-limit", TestLimit.ToString(), "--output", _fashionModel,
            "--augment", "crop:2:replicate,rotate:5@0.5", "--schedule", "onecycle", "--json");
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(_tmp, recursive: true);

    private static double[] Scores(JsonElement prediction, IReadOnlyList<string> classNames) =>
        classNames.Select(n => prediction.GetProperty("scores").GetProperty(n).GetDouble()).ToArray();

    [TestMethod]
    public void Train_FashionMnist_PrintsProgressAndEndsWithTheMetricsAsJson()
    {
        var (code, stdout, stderr) = _fashionRun;
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(string.Empty, stderr);
        StringAssert.Contains(stdout, "epoch 1/1");
        StringAssert.Contains(stdout, "Confusion table");
        var json = LastLineJson(stdout);
        double micro = json.GetProperty("microAccuracy").GetDouble();
        Assert.IsGreaterThan(0.25, micro, "one epoch on 1000 images learns well above chance (0.1)");
        Assert.IsLessThanOrEqualTo(1.0, micro);
        Assert.IsGreaterThan(0.0, json.GetProperty("macroAccuracy").GetDouble());
        Assert.IsGreaterThan(0.0, json.GetProperty("logLoss").GetDouble());
        var perClass = json.GetProperty("perClass");
        Assert.AreEqual(10, perClass.GetArrayLength());
        CollectionAssert.AreEqual(FashionMnist.ClassNames.ToArray(), perClass.EnumerateArray().Select(c => c.GetProperty("label").GetString()).ToArray());
        foreach (var c in perClass.EnumerateArray())
        {
            Assert.IsTrue(c.GetProperty("precision").GetDouble() is >= 0 and <= 1);
            Assert.IsTrue(c.GetProperty("recall").GetDouble() is >= 0 and <= 1);
            Assert.IsGreaterThanOrEqualTo(0.0, c.GetProperty("logLoss").GetDouble());
        }
        Assert.AreEqual(TestLimit, perClass.EnumerateArray().Sum(c => c.GetProperty("support").GetInt32()));
        Assert.AreEqual(_fashionModel, json.GetProperty("model").GetString());
        CollectionAssert.AreEqual(new[] { _fashionModel }, Directory.GetFiles(Path.GetDirectoryName(_fashionModel)!), "the model, and no temporary file");
        Assert.AreEqual(TrainLimit, json.GetProperty("trainRows").GetInt32());
        Assert.AreEqual(TestLimit, json.GetProperty("testRows").GetInt32());
        Assert.AreEqual(1, json.GetProperty("epochs").GetInt32());
        Assert.AreEqual("cpu", json.GetProperty("device").GetString());
        Assert.AreEqual("28x28", json.GetProperty("imageSize").GetString());
        StringAssert.Contains(json.GetProperty("augmentation").GetString(), "RandomCrop(padding=2, Replicate)");
        StringAssert.Contains(json.GetProperty("augmentation").GetString(), "RandomRotation(degrees=5");
        Assert.AreEqual("onecycle", json.GetProperty("schedule").GetString());
        var matrix = json.GetProperty("confusionMatrix");
        int correct = Enumerable.Range(0, 10).Sum(i => matrix[i][i].GetInt32());
        Assert.AreEqual(micro, (double)correct / TestLimit, 1e-12);
    }

    [TestMethod]
    public void Train_SavesAnMLNetModelThatPlainMLNetLoads()
    {
        Assert.AreEqual(0, _fashionRun.Code, _fashionRun.Err);
        var ml = new MLContext(seed: 1);
        var model = SavedModels.Load(ml, _fashionModel, out var inputSchema);
        try
        {
            var features = inputSchema["Features"];
            CollectionAssert.AreEqual(new[] { 1, 28, 28 }, ((VectorDataViewType)features.Type).Dimensions.ToArray());
            Assert.AreEqual(TextDataViewType.Instance, inputSchema["Label"].Type);
            var steps = Flatten(model).ToArray();
            Assert.IsTrue(steps.Any(s => s is OnnxTransformer), string.Join(", ", steps.Select(s => s.GetType().Name)));
            Assert.IsFalse(steps.Any(s => s is ConvNetTransformer), "the zip holds ML.NET's own transformers only");
            var output = model.GetOutputSchema(inputSchema);
            Assert.AreEqual(10, ((VectorDataViewType)output["Score"].Type).Size);
            Assert.AreEqual(TextDataViewType.Instance, output["PredictedName"].Type);
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }

        static IEnumerable<ITransformer> Flatten(ITransformer t) =>
            t is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [t];
    }

    [TestMethod]
    public void Evaluate_FashionMnist_GivesTheMetricsTrainPrinted()
    {
        Assert.AreEqual(0, _fashionRun.Code, _fashionRun.Err);
        var trained = LastLineJson(_fashionRun.Out);
        var (code, stdout, stderr) = Run("evaluate", "--model", _fashionModel, "--dataset", "fashion-mnist", "--data-dir", FashionMnistTests.BundledFolder(),
            "--test-limit", TestLimit.ToString(), "--json");
        Assert.AreEqual(0, code, stderr);
        var json = LastLineJson(stdout);
        // train scores with the library's engine, evaluate with the saved model through ONNX Runtime: they agree within 1e-5.
        Assert.AreEqual(trained.GetProperty("microAccuracy").GetDouble(), json.GetProperty("microAccuracy").GetDouble(), 1.0 / TestLimit + 1e-12);
        Assert.AreEqual(trained.GetProperty("logLoss").GetDouble(), json.GetProperty("logLoss").GetDouble(), 1e-4);
        Assert.AreEqual(TestLimit, json.GetProperty("testRows").GetInt32());
        Assert.AreEqual(_fashionModel, json.GetProperty("model").GetString());
        StringAssert.Contains(stdout, "micro accuracy");
    }

    [TestMethod]
    public void Predict_PngFilesOfIdxImages_ScoreAsTheIdxPixels()
    {
        Assert.AreEqual(0, _fashionRun.Code, _fashionRun.Err);
        const int n = 12;
        string dir = Path.Combine(_tmp, "predict-png");
        var files = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string file = Path.Combine(dir, $"garment{i}.png");
            WriteImage(i, file);
            files.Add(file);
        }
        // The same garment as an RGB PNG: grayscale conversion gives back the gray values.
        string rgb = Path.Combine(dir, "garment0-rgb.png");
        WriteImage(0, rgb, rgb: true);
        files.Add(rgb);

        var (code, stdout, stderr) = Run(["predict", "--model", _fashionModel, .. files, "--json"]);
        Assert.AreEqual(0, code, stderr);
        var predictions = LastLineJson(stdout).GetProperty("predictions");
        Assert.AreEqual(n + 1, predictions.GetArrayLength());

        // Reference: the saved model on the IDX pixels, with plain ML.NET.
        var ml = new MLContext(seed: 1);
        var model = SavedModels.Load(ml, _fashionModel, out _);
        try
        {
            var (rows, names) = CliData.FashionMnistRows(FashionMnistTests.BundledFolder(), DatasetSplit.Test, n);
            var expected = ml.Data.CreateEnumerable<ScoreRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToArray();
            Assert.HasCount(n, expected);
            for (int i = 0; i < n; i++)
            {
                var p = predictions[i];
                Assert.AreEqual(files[i], p.GetProperty("file").GetString());
                var actual = Scores(p, names);
                for (int c = 0; c < names.Count; c++)
                {
                    Assert.AreEqual(expected[i].Score[c], actual[c], 1e-5, $"image {i}, class {names[c]}");
                }
                int best = Array.IndexOf(expected[i].Score, expected[i].Score.Max());
                Assert.AreEqual(names[best], p.GetProperty("label").GetString());
            }
            CollectionAssert.AreEqual(Scores(predictions[0], names), Scores(predictions[n], names), "RGB and gray PNG of one garment");
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
        // Without --json: one line per file naming it and its label.
        var (code2, plain, _) = Run("predict", "--model", _fashionModel, files[0]);
        Assert.AreEqual(0, code2);
        StringAssert.Contains(plain, files[0] + ": " + predictions[0].GetProperty("label").GetString());
    }

    [TestMethod]
    public void Predict_MissingOrCorruptFile_FailsNamingIt()
    {
        Assert.AreEqual(0, _fashionRun.Code, _fashionRun.Err);
        string missing = Path.Combine(_tmp, "no-such-image.png");
        var (code, stdout, stderr) = Run("predict", "--model", _fashionModel, missing);
        Assert.AreEqual(3, code, stderr);
        StringAssert.Contains(stderr, missing);
        Assert.AreEqual(string.Empty, stdout);

        string corrupt = Path.Combine(_tmp, "corrupt.png");
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5, 6, 7, 8]);
        (code, _, stderr) = Run("predict", "--model", _fashionModel, corrupt);
        Assert.AreEqual(4, code, stderr);
        StringAssert.Contains(stderr, corrupt);
    }

    [TestMethod]
    public void EvaluateAndPredict_MissingOrCorruptModel_FailNamingTheFile()
    {
        string missing = Path.Combine(_tmp, "missing.zip");
        var (code, _, stderr) = Run("evaluate", "--model", missing, "--dataset", "fashion-mnist");
        Assert.AreEqual(3, code, stderr);
        StringAssert.Contains(stderr, missing);

        string corrupt = Path.Combine(_tmp, "corrupt.zip");
        File.WriteAllText(corrupt, "this is not a zip");
        (code, _, stderr) = Run("predict", "--model", corrupt, Path.Combine(_tmp, "models", "lenet5.zip"));
        Assert.AreEqual(4, code, stderr);
        StringAssert.Contains(stderr, corrupt);

        // A model truncated half-way.
        Assert.AreEqual(0, _fashionRun.Code, _fashionRun.Err);
        string truncated = Path.Combine(_tmp, "truncated.zip");
        var bytes = File.ReadAllBytes(_fashionModel);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        (code, _, stderr) = Run("evaluate", "--model", truncated, "--dataset", "fashion-mnist", "--test-limit", "10");
        Assert.AreEqual(4, code, stderr);
        StringAssert.Contains(stderr, truncated);
    }

    [TestMethod]
    public void ImageFolder_TrainEvaluatePredict_AgreeWithEachOther()
    {
        string folder = Path.Combine(_tmp, "garments");
        // Trouser, Bag, Sneaker: 40 images each, PNG and JPEG, a few RGB.
        var files = WriteFolder(folder, [1, 8, 7], 40);
        Assert.HasCount(120, files);
        string model = Path.Combine(_tmp, "garments.zip");
        var (code, stdout, stderr) = Run("train", "--dataset", folder, "--arch", "smallcnn", "--channels", "1", "--epochs", "2",
            "--batch-size", "16", "--test-fraction", "0.25", "--seed", "3", "--output", model, "--json");
        Assert.AreEqual(0, code, stderr);
        var trained = LastLineJson(stdout);
        Assert.AreEqual(90, trained.GetProperty("trainRows").GetInt32(), "stratified: 30 of each class's 40 images");
        Assert.AreEqual(30, trained.GetProperty("testRows").GetInt32());
        string[] classes = ["Bag", "Sneaker", "Trouser"];
        CollectionAssert.AreEqual(classes, trained.GetProperty("perClass").EnumerateArray().Select(c => c.GetProperty("label").GetString()).ToArray());
        Assert.IsTrue(trained.GetProperty("perClass").EnumerateArray().All(c => c.GetProperty("support").GetInt32() == 10));
        Assert.IsGreaterThan(0.6, trained.GetProperty("microAccuracy").GetDouble(), "three easily told classes");
        Assert.IsTrue(File.Exists(model));

        (code, stdout, stderr) = Run("evaluate", "--model", model, "--dataset", folder, "--json");
        Assert.AreEqual(0, code, stderr);
        var evaluated = LastLineJson(stdout);
        Assert.AreEqual(120, evaluated.GetProperty("testRows").GetInt32());

        (code, stdout, stderr) = Run(["predict", "--model", model, .. files.Select(f => f.Path), "--json"]);
        Assert.AreEqual(0, code, stderr);
        var predictions = LastLineJson(stdout).GetProperty("predictions");
        Assert.AreEqual(files.Count, predictions.GetArrayLength());
        int correct = 0;
        for (int i = 0; i < files.Count; i++)
        {
            string? label = predictions[i].GetProperty("label").GetString();
            CollectionAssert.Contains(classes, label);
            Assert.AreEqual(3, predictions[i].GetProperty("scores").EnumerateObject().Count());
            correct += label == files[i].Label ? 1 : 0;
        }
        Assert.AreEqual(evaluated.GetProperty("microAccuracy").GetDouble(), (double)correct / files.Count, 1e-12,
            "evaluate's accuracy on the folder equals the share of files predict labels correctly");

        // A folder with a class the model does not know.
        string other = Path.Combine(_tmp, "other");
        WriteFolder(other, [1, 0], 3);
        (code, _, stderr) = Run("evaluate", "--model", model, "--dataset", other);
        Assert.AreEqual(1, code, stderr);
        StringAssert.Contains(stderr, "T-shirt_top");
        StringAssert.Contains(stderr, "'Trouser'");
    }

    [TestMethod]
    public void FolderModel_EvaluatesOnFashionMnist()
    {
        // Ten folders named as Fashion-MNIST's classes ('/' written '_'): the model loads image files, and evaluate
        // gives it Fashion-MNIST's images directly.
        string folder = Path.Combine(_tmp, "all-classes");
        WriteFolder(folder, [.. Enumerable.Range(0, 10)], 4);
        string model = Path.Combine(_tmp, "all-classes.zip");
        var (code, _, stderr) = Run("train", "--dataset", folder, "--arch", "smallcnn", "--channels", "1", "--epochs", "1",
            "--batch-size", "8", "--test-fraction", "0.25", "--output", model);
        Assert.AreEqual(0, code, stderr);
        (code, var stdout, stderr) = Run("evaluate", "--model", model, "--dataset", "fashion-mnist", "--data-dir", FashionMnistTests.BundledFolder(),
            "--test-limit", "30", "--json");
        Assert.AreEqual(0, code, stderr);
        var json = LastLineJson(stdout);
        Assert.AreEqual(30, json.GetProperty("testRows").GetInt32());
        var labels = json.GetProperty("perClass").EnumerateArray().Select(c => c.GetProperty("label").GetString()).ToArray();
        Assert.HasCount(10, labels);
        CollectionAssert.Contains(labels, "T-shirt_top", "class names are the folder names");
    }

    [TestMethod]
    public void Train_UnreadableImage_FailsNamingTheFileAndWritesNoModel()
    {
        string folder = Path.Combine(_tmp, "with-corrupt");
        WriteFolder(folder, [1, 8], 6);
        string corrupt = Path.Combine(folder, "Bag", "broken.png");
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5, 6, 7, 8]);
        string model = Path.Combine(_tmp, "with-corrupt", "model.zip");
        // The corrupt image is read for training or for the held-out evaluation: either way the run fails naming it.
        var (code, _, stderr) = Run("train", "--dataset", folder, "--arch", "smallcnn", "--epochs", "1", "--test-fraction", "0.2",
            "--output", model);
        Assert.AreEqual(4, code, stderr);
        StringAssert.Contains(stderr, "broken.png");
        Assert.IsFalse(File.Exists(model));

        // evaluate and predict name the file too.
        (code, _, stderr) = Run("evaluate", "--model", _fashionModel, "--dataset", folder);
        Assert.AreEqual(4, code, stderr);
        StringAssert.Contains(stderr, "broken.png");
    }

    [TestMethod]
    public void Predict_ScoresEveryGoodFileAndReportsEachBadOneExitingNonZeroAtTheEnd()
    {
        Assert.AreEqual(0, _fashionRun.Code, _fashionRun.Err);
        string dir = Path.Combine(_tmp, "mixed");
        var good = WriteFolder(dir, [1, 8], 2).Select(f => f.Path).ToArray();
        string missing = Path.Combine(dir, "missing.png");
        string truncated = Path.Combine(dir, "truncated.png");
        var png = File.ReadAllBytes(good.First(f => f.EndsWith(".png", StringComparison.Ordinal)));
        File.WriteAllBytes(truncated, png[..(png.Length / 2)]);
        var (code, stdout, stderr) = Run(["predict", "--model", _fashionModel, good[0], missing, good[1], truncated, good[2], good[3], "--json"]);
        Assert.AreEqual(4, code, stderr);
        var json = LastLineJson(stdout);
        CollectionAssert.AreEqual(new[] { good[0], good[1], good[2], good[3] },
            json.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("file").GetString()).ToArray(), "every good file is scored");
        var errors = json.GetProperty("errors").EnumerateArray().ToArray();
        Assert.HasCount(2, errors);
        Assert.AreEqual(3, errors[0].GetProperty("exitCode").GetInt32());
        Assert.AreEqual(4, errors[1].GetProperty("exitCode").GetInt32());
        StringAssert.Contains(stderr, missing);
        StringAssert.Contains(stderr, truncated);
        StringAssert.Contains(stderr, "truncated");
        StringAssert.Contains(stderr, "2 of 6 files could not be classified");

        // Only missing files: exit code 3.
        (code, _, _) = Run("predict", "--model", _fashionModel, good[0], missing);
        Assert.AreEqual(3, code);
    }

    [TestMethod]
    public void TrainAndEvaluate_SkipBadImages_ListTheSkippedFilesAndUseTheRest()
    {
        string folder = Path.Combine(_tmp, "skip-bad");
        var files = WriteFolder(folder, [1, 8], 10);
        string corrupt = Path.Combine(folder, "Bag", "broken.png");
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5, 6, 7, 8]);
        string truncated = Path.Combine(folder, "Trouser", "cut.png");
        var png = File.ReadAllBytes(files.First(f => f.Path.EndsWith(".png", StringComparison.Ordinal)).Path);
        File.WriteAllBytes(truncated, png[..(png.Length * 2 / 3)]);
        string model = Path.Combine(_tmp, "skip-bad.zip");

        var (code, _, stderr) = Run("train", "--dataset", folder, "--arch", "smallcnn", "--channels", "1", "--epochs", "1", "--output", model);
        Assert.AreEqual(4, code, stderr);
        StringAssert.Contains(stderr, "2 of 22 image files cannot be used");
        StringAssert.Contains(stderr, "broken.png");
        StringAssert.Contains(stderr, "cut.png");
        StringAssert.Contains(stderr, "--skip-bad-images");
        Assert.IsFalse(File.Exists(model));

        (code, var stdout, stderr) = Run("train", "--dataset", folder, "--arch", "smallcnn", "--channels", "1", "--epochs", "1",
            "--batch-size", "8", "--output", model, "--skip-bad-images", "--json");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "skipping 2 of 22 image files");
        var trained = LastLineJson(stdout);
        Assert.AreEqual(20, trained.GetProperty("trainRows").GetInt32() + trained.GetProperty("testRows").GetInt32());
        var skipped = trained.GetProperty("skippedImages").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.HasCount(2, skipped);
        Assert.IsTrue(skipped.Any(t => t.Contains("cut.png", StringComparison.Ordinal) && t.Contains("truncated", StringComparison.Ordinal)), string.Join("\n", skipped));

        (code, stdout, stderr) = Run("evaluate", "--model", model, "--dataset", folder, "--skip-bad-images", "--json");
        Assert.AreEqual(0, code, stderr);
        Assert.AreEqual(20, LastLineJson(stdout).GetProperty("testRows").GetInt32());
        Assert.AreEqual(2, LastLineJson(stdout).GetProperty("skippedImages").GetArrayLength());
    }

    [TestMethod]
    public void Train_UnwritableOutput_FailsBeforeTrainingNamingThePath()
    {
        string file = Path.Combine(_tmp, "a-file");
        File.WriteAllText(file, "x");
        string output = Path.Combine(file, "model.zip");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, stdout, stderr) = Run("train", "--dataset", "fashion-mnist", "--data-dir", FashionMnistTests.BundledFolder(), "--arch", "lenet5",
            "--epochs", "1", "--output", output);
        Assert.AreEqual(3, code, stderr);
        StringAssert.Contains(stderr, output);
        StringAssert.Contains(stderr, "--output");
        Assert.DoesNotContain("epoch", stdout, "nothing was trained");
        Assert.IsLessThan(10, clock.Elapsed.TotalSeconds);
    }

    [TestMethod]
    public void Readme_ListsTheExitCodesOfTheHelp()
    {
        string readme = File.ReadAllText(Path.Combine(Microsoft.ML.ConvNet.Tests.Samples.SampleFolders.RepositoryRoot(), "README.md"));
        foreach (string line in Microsoft.ML.ConvNet.Cli.ConvNetCli.ExitCodes.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            StringAssert.Contains(readme, line, "README.md lists the exit codes as 'convnet --help' does");
        }
    }

    [TestMethod]
    public void Help_ListsTheExitCodes()
    {
        var (code, stdout, _) = Run("--help");
        Assert.AreEqual(0, code);
        StringAssert.Contains(stdout, "Exit codes:");
        StringAssert.Contains(stdout, "4   an invalid input file");
    }

    [TestMethod]
    public void Train_CudaDevice_FailsWithAClearMessage()
    {
        var (code, stdout, stderr) = Run("train", "--dataset", "fashion-mnist", "--arch", "lenet5", "--device", "cuda", "--output", Path.Combine(_tmp, "cuda.zip"));
        if (code == 0)
        {
            Assert.Inconclusive("A CUDA device is available: training on it succeeded.");
        }
        Assert.AreEqual(1, code, stdout);
        StringAssert.Contains(stderr, "--device cuda");
        StringAssert.Contains(stderr, "cuda:0");
        Assert.IsFalse(File.Exists(Path.Combine(_tmp, "cuda.zip")));
    }

    [TestMethod]
    public void Train_MissingData_FailsListingWhereItLooked()
    {
        string nowhere = Path.Combine(_tmp, "no-such-folder");
        var (code, _, stderr) = Run("train", "--dataset", nowhere, "--arch", "smallcnn", "--output", Path.Combine(_tmp, "x.zip"));
        Assert.AreEqual(3, code, stderr);
        StringAssert.Contains(stderr, nowhere);

        (code, _, stderr) = Run("train", "--dataset", "fashion-mnist", "--data-dir", nowhere, "--arch", "lenet5", "--output", Path.Combine(_tmp, "x.zip"));
        Assert.AreEqual(3, code, stderr);
        StringAssert.Contains(stderr, nowhere);

        string empty = Path.Combine(_tmp, "empty-folder");
        Directory.CreateDirectory(empty);
        (code, _, stderr) = Run("evaluate", "--model", _fashionModel, "--dataset", empty);
        Assert.AreEqual(1, code, stderr);
        StringAssert.Contains(stderr, "no image files");
    }

    [TestMethod]
    [DataRow("train --dataset fashion-mnist --arch lenet5", "--output")]
    [DataRow("train --arch lenet5 --output m.zip", "--dataset")]
    [DataRow("train --dataset fashion-mnist --output m.zip", "--arch")]
    [DataRow("train --dataset fashion-mnist --arch lenet --output m.zip", "lenet5")]
    [DataRow("train --dataset fashion-mnist --arch nosuchnet --output m.zip", "nosuchnet")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --image-size 28xA --output m.zip", "28xA")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --image-size 28x28x3 --output m.zip", "28x28x3")]
    [DataRow("train --dataset fashion-mnist --arch smallcnn --image-size 20x20 --output m.zip", "20x20")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --channels 2 --output m.zip", "--channels")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --channels 3 --output m.zip", "--channels 3")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --image-size 32x32 --output m.zip", "32x32")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --device tpu --output m.zip", "tpu")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --epochs 0 --output m.zip", "--epochs")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --learning-rate -1 --output m.zip", "--learning-rate")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --label-smoothing 1 --output m.zip", "--label-smoothing")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --test-fraction 0.3 --output m.zip", "--test-fraction")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --epochs two --output m.zip", "two")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --augment flip,rotat:10 --output m.zip", "'rotat:10'")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --augment crop:x --output m.zip", "'crop:x'")]
    [DataRow("train --dataset fashion-mnist --arch lenet5 --schedule linear --output m.zip", "'linear'")]
    [DataRow("evaluate --dataset fashion-mnist", "--model")]
    [DataRow("evaluate --model m.zip", "--dataset")]
    [DataRow("predict --model m.zip", "predict")]
    [DataRow("predict a.png", "--model")]
    public void UsageErrors_GoToStderrWithExitCode2(string commandLine, string expectedInMessage)
    {
        var (code, stdout, stderr) = Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.AreEqual(2, code, $"stdout: {stdout}\nstderr: {stderr}");
        StringAssert.Contains(stderr, expectedInMessage);
        Assert.AreEqual(string.Empty, stdout);
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
