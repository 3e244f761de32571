1; % a script: Tang's original metric code under GNU Octave, each metric timed alone
%
% Usage (from the repository root). The arguments: the folder Evaluation/ of a checkout of
% Linfeng-Tang/Evaluation-for-Image-Fusion at 5d6c43a (tang2022) or 0e87153 (tang2023), that
% version's profile name, the data root (../shared/data), a CSV of triples with the header
% "dataset,method,pair,a,b,f" (paths relative to the data root), the CSV to write, the repeats:
%
%   octave --no-gui --quiet benchmarks/octave/tang_original.m \
%       EVAL tang2023 ../shared/data benchmarks/octave/triples.csv out.csv 1
%
% Each image is read as the original's Evaluation_for_*.m do (imread, rgb2gray for 3 channels).
% The metric calls are those of that version's analysis_Reference.m, with the same arguments,
% one at a time: a call the installed Octave cannot run (no dwt2 for FMI_w; no ssim for
% tang2023's SSIM) gives NaN and its error message instead of ending the run. Output columns:
% dataset, method, pair, metric, convention, value (17 significant digits), cpu_seconds (best
% of the repeats), source (the code and the files, as in ../shared/reference), error.

function img = read_gray(path)
  img = imread(path);
  if size(img, 3) > 2
    img = rgb2gray(img);
  end
end

function calls = tang2022_calls(a, b, f)
  seq = zeros([size(a), 2]); seq(:, :, 1) = a; seq(:, :, 2) = b;
  da = im2double(a); db = im2double(b); df = im2double(f);
  calls = {
    'EN', @() entropy(f);
    'SF', @() SF_evaluation(df);
    'SD', @() SD_evaluation(f);
    'PSNR', @() PSNR_evaluation(da, db, df);
    'MSE', @() MSE_evaluation(da, db, df);
    'MI', @() MI_evaluation(a, b, f, 256);
    'VIF', @() vifp_mscale(a, f) + vifp_mscale(b, f);
    'AG', @() AG_evaluation(f);
    'CC', @() CC_evaluation(da, db, df);
    'SCD', @() analysis_SCD(da, db, df);
    'Qabf', @() analysis_Qabf(da, db, df);
    'Nabf', @() analysis_nabf(df, da, db);
    'SSIM', @() mef_ssim(seq, f);
    'MS_SSIM', @() analysis_ms_ssim(seq, f);
    'FMI_pixel', @() analysis_fmi(da, db, df);
    'FMI_dct', @() analysis_fmi(da, db, df, 'dct');
    'FMI_w', @() analysis_fmi(da, db, df, 'wavelet')};
end

function calls = tang2023_calls(a, b, f)
  fa = im2double(a) * 255.0; fb = im2double(b) * 255.0; ff = im2double(f) * 255.0;
  seq = zeros([size(a), 2]); seq(:, :, 1) = fa; seq(:, :, 2) = fb;
  calls = {
    'EN', @() entropy(f);
    'MI', @() MI_evaluation(a, b, f, 256);
    'PSNR', @() PSNR_evaluation(fa, fb, ff);
    'MSE', @() MSE_evaluation(fa, fb, ff);
    'SF', @() SF_evaluation(ff);
    'SD', @() SD_evaluation(ff);
    'VIF', @() vifp_mscale(fa, ff) + vifp_mscale(fb, ff);
    'AG', @() AG_evaluation(ff);
    'CC', @() CC_evaluation(fa, fb, ff);
    'SCD', @() analysis_SCD(fa, fb, ff);
    'Qabf', @() analysis_Qabf(fa, fb, ff);
    'Nabf', @() analysis_nabf(fa, fb, ff);
    'SSIM', @() 0.5 * ssim(ff, fa) + 0.5 * ssim(ff, fb);
    'MS_SSIM', @() analysis_ms_ssim(seq, ff);
    'FMI_pixel', @() analysis_fmi(fa, fb, ff);
    'FMI_dct', @() analysis_fmi(fa, fb, ff, 'dct');
    'FMI_w', @() analysis_fmi(fa, fb, ff, 'wavelet')};
end

args = argv();
[evaluation, profile, root, triples, out] = args{1:5};
repeat = 1;
if numel(args) > 5
  repeat = str2double(args{6});
end
commits = struct('tang2022', '5d6c43a', 'tang2023', '0e87153');
pkg load image
pkg load signal
addpath(evaluation);
lines = strsplit(strtrim(fileread(triples)), "\n");
fid = fopen(out, 'w');
fprintf(fid, 'dataset,method,pair,metric,convention,value,cpu_seconds,source,error\n');
for k = 2:numel(lines)
  parts = strsplit(strtrim(lines{k}), ',');
  files = fullfile(root, parts(4:6));
  a = read_gray(files{1}); b = read_gray(files{2}); f = read_gray(files{3});
  source = sprintf(['GNU Octave %s + image %s + signal %s running Linfeng-Tang/' ...
                    'Evaluation-for-Image-Fusion@%s (metric functions called as ' ...
                    'analysis_Reference.m calls them); A=%s B=%s F=%s'], version(), ...
                   pkg('describe', 'image'){1}.version, pkg('describe', 'signal'){1}.version, ...
                   commits.(profile), parts{4:6});
  calls = feval([profile '_calls'], a, b, f);
  for c = 1:rows(calls)
    best = Inf; value = NaN; message = '';
    for r = 1:repeat
      try
        t0 = cputime();
        value = calls{c, 2}();
        best = min(best, cputime() - t0);
      catch err
        message = strrep(err.message, ',', ';');
        break
      end
    end
    fprintf(fid, '%s,%s,%s,%s,%s,%.17g,%.4f,%s,%s\n', parts{1:3}, calls{c, 1}, profile, ...
            value, best, source, message);
    fflush(fid);
  end
end
fclose(fid);
