package dev.distill.runtime;

/**
 * A quantised dense layer y = act(W·x + b). Weights are symmetric int8 per output channel:
 * W[j][i] ≈ weights[j·in + i] · weightScales[j]. The input arrives as uint8 with (inputScale,
 * inputZeroPoint); the int32 bias is in units of inputScale · weightScales[j]. A hidden layer requantises
 * its output to uint8 with (outputScale, outputZeroPoint); the last layer returns float logits.
 */
public record DenseLayer(int in, int out, Activation activation, float[] weightScales, byte[] weights, int[] bias,
                         float outputScale, int outputZeroPoint) implements Layer {

    @Override
    public int inputSize() {
        return in;
    }

    @Override
    public int outputSize() {
        return out;
    }

    @Override
    public long parameters() {
        return (long) in * out + out;
    }

    /** Activation functions the runtime knows, with their codes in the file. */
    public enum Activation {
        IDENTITY(0), RELU(1);

        final int code;

        Activation(int code) {
            this.code = code;
        }

        static Activation of(int code) {
            for (Activation a : values()) {
                if (a.code == code) {
                    return a;
                }
            }
            return null;
        }
    }

    public DenseLayer {
        if (in <= 0 || out <= 0 || weightScales.length != out || weights.length != (long) in * out || bias.length != out) {
            throw new IllegalArgumentException("dense layer " + in + "x" + out + " has " + weightScales.length
                    + " scales, " + weights.length + " weights and " + bias.length + " biases");
        }
    }
}
