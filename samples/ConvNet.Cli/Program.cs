using Microsoft.ML.ConvNet.Cli;

return ConvNetCli.Run(args, Console.Out, Console.Error);
