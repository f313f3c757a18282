/*
 * overload.c - host overload detection of Beloglazov & Buyya (2012):
 * static threshold (THR), inter-quartile range (IQR), median absolute
 * deviation (MAD), local regression (LR) and robust local regression (LRR),
 * plus the small statistics they need.  Pure functions on arrays.
 *
 * Conventions follow CloudSim 3.0.3 (MathUtil): histories are most recent
 * first with the zero tail trimmed; IQR takes quartiles at sorted indices
 * round(q*(n+1))-1; LR fits y = a + b x on x = 1..10.  In 3.0.3 the tricube
 * weights are all positive, which makes its "weighted" fit an ordinary least
 * squares fit, and LRR's bisquare pass likewise: LR and LRR give the same
 * estimates there, and so they do here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sim.h"
#include "util/alloc.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* histories are short (<= 64): insertion sort beats qsort's call overhead */
static void sort_small(double *v, size_t n)
{
	if (n > 64) {
		qsort(v, n, sizeof *v, cmp_double);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

double gr_sim_median(const double *x, size_t n)
{
	double buf[64];
	double *v = n <= 64 ? buf : xmalloc(n * sizeof *v);
	memcpy(v, x, n * sizeof *v);
	sort_small(v, n);
	double m = (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	if (v != buf)
		free(v);
	return m;
}

double gr_sim_mad(const double *x, size_t n)
{
	if (n == 0)
		return 0;
	double med = gr_sim_median(x, n);
	double buf[64];
	double *dev = n <= 64 ? buf : xmalloc(n * sizeof *dev);
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(med - x[i]);
	double m = gr_sim_median(dev, n);
	if (dev != buf)
		free(dev);
	return m;
}

static long java_round(double x)
{
	return (long)floor(x + 0.5);
}

double gr_sim_iqr(const double *x, size_t n)
{
	if (n == 0)
		return 0;
	double buf[64];
	double *v = n <= 64 ? buf : xmalloc(n * sizeof *v);
	memcpy(v, x, n * sizeof *v);
	sort_small(v, n);
	long q1 = java_round(0.25 * (double)(n + 1)) - 1;
	long q3 = java_round(0.75 * (double)(n + 1)) - 1;
	if (q1 < 0)
		q1 = 0;
	if (q3 > (long)n - 1)
		q3 = (long)n - 1;
	double r = v[q3] - v[q1];
	if (v != buf)
		free(v);
	return r;
}

int gr_sim_ols(const double *y, size_t n, double *a, double *b)
{
	if (n < 2)
		return -1;
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (size_t i = 0; i < n; i++) {
		double x = (double)(i + 1);
		sx += x;
		sy += y[i];
		sxx += x * x;
		sxy += x * y[i];
	}
	double dn = (double)n;
	double den = dn * sxx - sx * sx;
	*b = (dn * sxy - sx * sy) / den;
	*a = (sy - *b * sx) / dn;
	return 0;
}

/* CloudSim's countNonZeroBeginning: index of the last non-zero + 1 (1 when all zero). */
static size_t trimmed_len(const double *h, size_t n)
{
	while (n > 0 && h[n - 1] == 0)
		n--;
	return n ? n : 1;
}

int gr_sim_adaptive_threshold(enum gr_sim_detector d, double s, const double *hist, size_t n,
			      double *thr)
{
	n = n ? trimmed_len(hist, n) : 0;
	if (n < 12)
		return -1;
	double spread = d == GR_SIM_IQR ? gr_sim_iqr(hist, n) : gr_sim_mad(hist, n);
	*thr = 1 - s * spread;
	return 0;
}

int gr_sim_lr_predict(const double *hist, size_t n, double s, double steps_ahead, double *pred)
{
	enum { LEN = 10 };
	n = n ? trimmed_len(hist, n) : 0;
	if (n < LEN)
		return -1;
	double y[LEN], a, b;
	for (int i = 0; i < LEN; i++)
		y[i] = hist[LEN - 1 - i];
	gr_sim_ols(y, LEN, &a, &b);
	*pred = (a + b * (LEN + steps_ahead)) * s;
	return 0;
}

double gr_sim_r2_against_others(const double *m, size_t rows, size_t cols, size_t i)
{
	const double *y = m + i * cols;
	double ymean = 0;
	for (size_t c = 0; c < cols; c++)
		ymean += y[c];
	ymean /= (double)cols;
	double sst = 0;
	for (size_t c = 0; c < cols; c++)
		sst += (y[c] - ymean) * (y[c] - ymean);
	if (rows == 1)
		return 0;
	size_t p = rows; /* intercept + rows-1 predictors */
	if (cols < p)
		return -1;
	/* normal equations A beta = v, A = X'X (p x p) */
	double *A = xcalloc(p * p, sizeof *A), *v = xcalloc(p, sizeof *v);
	double *xrow = xmalloc(p * sizeof *xrow);
	for (size_t c = 0; c < cols; c++) {
		xrow[0] = 1;
		for (size_t r = 0, k = 1; r < rows; r++)
			if (r != i)
				xrow[k++] = m[r * cols + c];
		for (size_t a = 0; a < p; a++) {
			v[a] += xrow[a] * y[c];
			for (size_t b = 0; b < p; b++)
				A[a * p + b] += xrow[a] * xrow[b];
		}
	}
	double r2 = -1;
	double scale = 0;
	for (size_t a = 0; a < p; a++)
		scale = fmax(scale, fabs(A[a * p + a]));
	/* Gaussian elimination with partial pivoting */
	for (size_t col = 0; col < p; col++) {
		size_t piv = col;
		for (size_t r = col + 1; r < p; r++)
			if (fabs(A[r * p + col]) > fabs(A[piv * p + col]))
				piv = r;
		if (fabs(A[piv * p + col]) <= 1e-12 * (scale > 0 ? scale : 1))
			goto out;
		if (piv != col) {
			for (size_t b = 0; b < p; b++) {
				double t = A[col * p + b];
				A[col * p + b] = A[piv * p + b];
				A[piv * p + b] = t;
			}
			double t = v[col];
			v[col] = v[piv];
			v[piv] = t;
		}
		for (size_t r = col + 1; r < p; r++) {
			double f = A[r * p + col] / A[col * p + col];
			for (size_t b = col; b < p; b++)
				A[r * p + b] -= f * A[col * p + b];
			v[r] -= f * v[col];
		}
	}
	for (size_t a = p; a-- > 0;) {
		double acc = v[a];
		for (size_t b = a + 1; b < p; b++)
			acc -= A[a * p + b] * v[b];
		v[a] = acc / A[a * p + a];
	}
	double ssr = 0;
	for (size_t c = 0; c < cols; c++) {
		double fit = v[0];
		for (size_t r = 0, k = 1; r < rows; r++)
			if (r != i)
				fit += v[k++] * m[r * cols + c];
		ssr += (y[c] - fit) * (y[c] - fit);
	}
	r2 = sst > 0 ? 1 - ssr / sst : 0;
out:
	free(A);
	free(v);
	free(xrow);
	return r2;
}
